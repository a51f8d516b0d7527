// A Chromium trace of the Grid's scroll (bench/ui.mjs --trace): each frame's main-thread CPU time
// (which other processes' load does not inflate, unlike the frame's length), and for every frame
// longer than the goal, the main thread's CPU time in it by kind and the GCs in it, so that a long
// frame can be told apart as script, garbage collection, style/layout or paint. Times are in ms.
const CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8.gc",
  "blink.user_timing",
  "v8",
].join(",");

// Style before layout: "UpdateLayoutTree" (style recalculation and layout-object creation) would
// match /Layout/.
const KIND = [
  [/GC|Scavenge|MarkCompact|MinorGC|MajorGC/, "gc"],
  [/UpdateLayoutTree|RecalculateStyles|ParseAuthorStyleSheet/, "style"],
  [/Layout/, "layout"],
  [/Paint|Composite|Raster|Layerize|PrePaint/, "paint"],
  [
    /FunctionCall|EvaluateScript|TimerFire|EventDispatch|FireAnimationFrame|RunMicrotasks|v8\.run|V8\.Execute|XHRReadyStateChange|ParseHTML/,
    "script",
  ],
];

function kindOf(name) {
  for (const [re, k] of KIND) if (re.test(name)) return k;
  return null;
}

export async function startGridTrace(page) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on("Tracing.dataCollected", (m) => events.push(...m.value));
  const done = new Promise((resolve) => cdp.once("Tracing.tracingComplete", resolve));
  await cdp.send("Tracing.start", { categories: CATEGORIES, transferMode: "ReportEvents" });
  return {
    async report(frames, goalMs) {
      await cdp.send("Tracing.end");
      await done;
      const marks = new Map();
      for (const e of events) {
        const m = /^grid-frame-(\d+)$/.exec(e.name ?? "");
        if (m && (e.ph === "R" || e.ph === "I" || e.ph === "i" || e.ph === "n" || e.ph === "b"))
          marks.set(Number(m[1]), e.ts);
      }
      // The renderer's main thread: the one that has the marks.
      const markEvent = events.find((e) => /^grid-frame-0$/.test(e.name ?? ""));
      if (markEvent === undefined) {
        console.log("trace: no frame marks found (blink.user_timing missing)");
        return;
      }
      const main = events.filter((e) => e.pid === markEvent.pid && e.tid === markEvent.tid && e.ph === "X");
      // Each frame's main-thread CPU time (the thread clock, tdur, of its top-level tasks): unlike
      // the frame's length, it does not grow when other processes take the cores.
      const tasks = main.filter((e) => e.name === "RunTask");
      const cpu = frames.map((_, i) => {
        const from = marks.get(i);
        const to = marks.get(i + 1);
        if (from === undefined || to === undefined) return 0;
        return (
          tasks.filter((e) => e.ts >= from && e.ts < to).reduce((t, e) => t + (e.tdur ?? e.dur ?? 0), 0) /
          1000
        );
      });
      const sorted = [...cpu].sort((a, b) => a - b);
      const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)].toFixed(0);
      console.log(
        `trace: main-thread CPU a frame: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, most ${at(1)} ms, over ${goalMs} ms: ${cpu.filter((c) => c > goalMs).length}`,
      );
      frames.forEach((len, i) => {
        if (len <= goalMs) return;
        const from = marks.get(i);
        const to = marks.get(i + 1);
        if (from === undefined || to === undefined) return;
        const inFrame = main.filter((e) => e.ts >= from && e.ts < to);
        const byKind = {};
        const gcs = {};
        // An event inside another of its kind (FunctionCall in v8.callFunction, a GC phase in its
        // GC) is already counted: only the outermost of each kind adds. Thread time (tdur).
        const until = {};
        for (const e of [...inFrame].sort((a, b) => a.ts - b.ts)) {
          const k = kindOf(e.name);
          if (k === null || e.ts < (until[k] ?? 0)) continue;
          until[k] = e.ts + (e.dur ?? 0);
          const ms = (e.tdur ?? e.dur ?? 0) / 1000;
          byKind[k] = (byKind[k] ?? 0) + ms;
          if (k === "gc") gcs[e.name] = (gcs[e.name] ?? 0) + ms;
        }
        // How many elements had their style recomputed: what a style-heavy frame is made of.
        const styled = inFrame
          .filter((e) => e.name === "UpdateLayoutTree")
          .reduce((n, e) => n + (e.args?.elementCount ?? e.args?.data?.elementCount ?? 0), 0);
        const top = [...inFrame]
          .filter((e) => e.name !== "RunTask")
          .sort((a, b) => (b.tdur ?? 0) - (a.tdur ?? 0))
          .slice(0, 4)
          .map((e) => `${e.name} ${((e.tdur ?? e.dur ?? 0) / 1000).toFixed(1)}`);
        const kinds = Object.entries(byKind)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(", ");
        const gc = Object.entries(gcs)
          .map(([n, ms]) => `${n} ${ms.toFixed(1)}`)
          .join(", ");
        console.log(
          `trace frame #${i} ${Math.round(len)} ms, CPU ${cpu[i].toFixed(0)} ms: ${kinds} (${styled} elements styled) | longest: ${top.join("; ")}${gc ? ` | gc: ${gc}` : ""}`,
        );
      });
      return cpu;
    },
  };
}
