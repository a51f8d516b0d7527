// A Chromium trace of the Grid's scroll (bench/ui.mjs --trace): for every frame longer than the
// goal, the time of the main thread's top-level tasks in it by kind, and the GCs in it, so that a
// long frame can be told apart as script, garbage collection, style/layout or paint.
const CATEGORIES = [
  "devtools.timeline",
  "disabled-by-default-devtools.timeline",
  "v8.gc",
  "blink.user_timing",
  "v8",
].join(",");

const KIND = [
  [/GC|Scavenge|MarkCompact|MinorGC|MajorGC/, "gc"],
  [/Layout/, "layout"],
  [/UpdateLayoutTree|RecalculateStyles|ParseAuthorStyleSheet/, "style"],
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
      frames.forEach((len, i) => {
        if (len <= goalMs) return;
        const from = marks.get(i);
        const to = marks.get(i + 1);
        if (from === undefined || to === undefined) return;
        const inFrame = main.filter((e) => e.ts >= from && e.ts < to);
        const byKind = {};
        const gcs = [];
        for (const e of inFrame) {
          const k = kindOf(e.name);
          if (k === null) continue;
          // Top-level only for script (nested FunctionCalls would count twice); GC and layout as they come.
          byKind[k] = (byKind[k] ?? 0) + (e.dur ?? 0) / 1000;
          if (k === "gc") gcs.push(`${e.name} ${((e.dur ?? 0) / 1000).toFixed(1)} ms`);
        }
        const top = [...inFrame]
          .sort((a, b) => (b.dur ?? 0) - (a.dur ?? 0))
          .slice(0, 6)
          .map((e) => `${e.name} ${((e.dur ?? 0) / 1000).toFixed(1)}`);
        const kinds = Object.entries(byKind)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(", ");
        console.log(
          `trace frame #${i} ${Math.round(len)} ms: ${kinds} | longest: ${top.join("; ")}${gcs.length ? ` | gc: ${gcs.join(", ")}` : ""}`,
        );
      });
    },
  };
}
