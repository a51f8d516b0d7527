// Workload "ui": the web UI in Debian's Chromium over the API benchmark's history (bench/api.mjs's
// seed: 1,000 DAGs and one 100-task DAG with 10,000 runs, 1 million task instances, on a
// throwaway PostgreSQL database), served by the real API server. Timed:
//   - DAGs page: navigation to the first row of the list                (goal ≤ 1,000 ms)
//   - Grid: navigation to the first cell of the 10,000-run Grid         (goal ≤ 1,000 ms)
//   - scrolling the Grid from the newest run to the oldest, a screen a frame: the longest frame
//                                                                       (goal ≤ 100 ms)
//   - a 50 MB task log: navigation to the task instance page until its first log lines show
//                                                                       (goal ≤ 1,000 ms)
// Needs `npm run build` (the UI in packages/updraft/ui-dist) and /usr/bin/chromium.
// Usage: npm run bench -- ui [--runs N] [--scrolls N] [--trace] [--ab DIR]
//   --ab DIR serves a second build of the UI (a copy of packages/updraft/ui-dist, e.g. main's) from a
//   second API server on the same database; the scroll passes alternate between the two (A: this
//   tree's UI, B: DIR's; A B B A …), so that a change is compared under the same load, pass for
//   pass, and a summary per variant follows. Make DIR with `npm run build` on the base commit and
//   `cp -r packages/updraft/ui-dist DIR`.
//   --trace records a Chromium trace of the Grid's scroll and prints, for each frame over 100 ms,
//   where its time went (script, GC, style, layout, paint) — see grid-trace.mjs.
/* global document, requestAnimationFrame -- in page.evaluate, which runs in the browser */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { bigDag, seed } from "./api.mjs";
import { throwawayPostgres } from "./lib/peers.mjs";
import { startGridTrace } from "./lib/grid-trace.mjs";
import { cpuBetween, cpuSnapshot } from "./lib/proc-cpu.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "packages", "updraft", "dist");
const load = (p) => import(pathToFileURL(join(dist, p)).href);
const BIG_DAG = "bench_api_big";
const TASKS = 100;
const PASSWORD = "bench-viewer-password";

function report(name, value, goal, unit = "ms") {
  const met = value <= goal;
  console.log(JSON.stringify({ workload: "ui", name, value: Math.round(value), unit, goal, met }));
  console.log(`${name}: ${Math.round(value)} ${unit} (goal ≤ ${goal} ${unit}: ${met ? "met" : "not met"})`);
}

export async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: "string", default: "10000" },
      scrolls: { type: "string", default: "1" },
      trace: { type: "boolean", default: false },
      ab: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  const scrolls = Math.max(1, Number(values.scrolls));
  const { loadConfig } = await load("config/index.js");
  const { openDatabase, migrate, saveDag } = await load("db/index.js");
  const { createApiServer } = await load("api/index.js");
  const { createUser } = await load("services/index.js");
  const { taskLogRelativePath } = await load("model/log-path.js");
  const { sql } = await import("kysely");

  const pgdb = await throwawayPostgres("updraft_bench_ui");
  const home = mkdtempSync(join(tmpdir(), "updraft-bench-ui-"));
  const config = loadConfig({
    env: {},
    home,
    overrides: { "database.sql_alchemy_conn": pgdb.url, "logging.base_log_folder": join(home, "logs") },
  });
  const database = await openDatabase(config);
  let server = null;
  let serverB = null;
  let browser = null;
  try {
    await migrate(database);
    const db = database.db;
    const tasks = Array.from({ length: TASKS }, (_, i) => `task_${String(i + 1).padStart(3, "0")}`);
    await saveDag(
      db,
      { dagId: BIG_DAG, fileloc: "/dags/big.ts", isPausedAtCreation: false },
      { data: bigDag(tasks), dagHash: "bench" },
    );
    const seedMs = await seed(db, sql, runs);
    console.log(`seeded ${runs} runs × ${TASKS} tasks and 1,000 DAGs in ${Math.round(seedMs / 1000)} s`);
    const logRun = await writeBigLog(db, sql, join(home, "logs"), taskLogRelativePath);
    await createUser(db, {
      username: "bench",
      email: "bench@localhost",
      password: PASSWORD,
      roles: ["Viewer"],
    });
    server = createApiServer({
      database,
      config,
      events: null,
      secretKey: randomBytes(32).toString("base64url"),
    });
    const base = await server.listen(0, "127.0.0.1");
    let baseB = null;
    if (values.ab !== undefined) {
      serverB = createApiServer({
        database,
        config,
        events: null,
        secretKey: randomBytes(32).toString("base64url"),
        uiDir: values.ab,
      });
      baseB = await serverB.listen(0, "127.0.0.1");
    }

    browser = await chromium.launch({
      executablePath: process.env["UPDRAFT_CHROMIUM"] ?? "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
    });
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(`${base}/login`);
    await page.fill("input[name=username]", "bench");
    await page.fill("input[name=password]", PASSWORD);
    await page.click("button[type=submit]");
    await page.waitForSelector("table.dags tr[data-dag-id]");

    // Warm once (assets in the browser's cache, statement plans), then time a fresh navigation.
    let t0 = performance.now();
    await page.goto(`${base}/dags`);
    await page.waitForSelector("table.dags tr[data-dag-id]");
    report("DAGs page first render (1,000 DAGs, page of 100)", performance.now() - t0, 1000);

    await page.goto(`${base}/dags/${BIG_DAG}/grid`);
    await page.waitForSelector(".grid-cell[data-state=success]");
    t0 = performance.now();
    await page.goto(`${base}/dags/${BIG_DAG}/grid`);
    await page.waitForSelector(".grid-cell[data-state=success]");
    report(`Grid first render (${runs} runs × ${TASKS} tasks)`, performance.now() - t0, 1000);

    // Scroll a screen per frame to the oldest run, recording each frame's length (and, with
    // --trace, a mark at each frame's start to find it in the trace). --scrolls N repeats the pass
    // from the top (the machine is noisy: one pass's longest frame says little on its own).
    const passes = [];
    const cpuLongest = [];
    // Grid pages requested during a pass: each costs the server, PostgreSQL and the renderer CPU.
    let gridRequests = 0;
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/ui/grid/")) gridRequests++;
    });
    const byVariant = { A: [], B: [] };
    if (baseB !== null) {
      await page.goto(`${baseB}/login`);
      await page.fill("input[name=username]", "bench");
      await page.fill("input[name=password]", PASSWORD);
      await page.click("button[type=submit]");
      await page.waitForSelector("table.dags tr[data-dag-id]");
    }
    for (let pass = 0; pass < scrolls; pass++) {
      // A B B A A B B A…: each variant as often first after the other (the pass after another
      // meets PostgreSQL's and the server's caches warmed by it).
      const variant = baseB !== null && (pass % 4 === 1 || pass % 4 === 2) ? "B" : "A";
      if (baseB !== null) {
        // Each pass on its own server's page (A: this tree's UI, B: --ab's), from the top.
        await page.goto(`${variant === "B" ? baseB : base}/dags/${BIG_DAG}/grid`);
        await page.waitForSelector(".grid-cell[data-state=success]");
        await page.waitForTimeout(2_000);
      } else if (pass > 0) {
        await page.evaluate(() => {
          document.querySelector(".grid-scroll").scrollTop = 0;
        });
        // Let the first screen's pages arrive and the scrolled-past pages leave the cache.
        await page.waitForTimeout(5_000);
        await page.waitForSelector(".grid-cell[data-state=success]");
      }
      const tracer = values.trace ? await startGridTrace(page) : null;
      const pgPids = (
        await sql`select pid from pg_stat_activity where datname = current_database()`.execute(db)
      ).rows.map((r) => r.pid);
      const cpu0 = cpuSnapshot(pgPids);
      const requests0 = gridRequests;
      const frames = await page.evaluate(scrollToBottom);
      // Backends the pool opened during the pass count too (from their start).
      const pgPidsAfter = (
        await sql`select pid from pg_stat_activity where datname = current_database()`.execute(db)
      ).rows.map((r) => r.pid);
      const cpuUsed = cpuBetween(cpu0, cpuSnapshot([...new Set([...pgPids, ...pgPidsAfter])]));
      const cpu = tracer === null ? null : await tracer.report(frames, 100);
      if (cpu) cpuLongest.push(Math.max(...cpu));
      passes.push(frames);
      byVariant[variant].push(frames);
      console.log(
        `Grid scroll pass ${pass + 1}${baseB === null ? "" : ` [${variant}]`} (load average ${loadavg()[0].toFixed(1)}): ${frameSummary(frames)}`,
      );
      console.log(
        `  CPU during the pass (${Math.round(frames.reduce((t, f) => t + f, 0) / 100) / 10} s): ${cpuUsed}; ${gridRequests - requests0} grid pages requested`,
      );
    }
    const longests = passes.map((f) => Math.max(...f)).sort((a, b) => a - b);
    const worst = longests.at(-1);
    if (scrolls > 1) {
      console.log(
        `Grid scroll, ${scrolls} passes: longest frame median ${Math.round(longests[Math.floor(longests.length / 2)])} ms, worst ${Math.round(worst)} ms; all frames: ${frameSummary(passes.flat())}`,
      );
    }
    if (baseB !== null) {
      for (const [v, f] of Object.entries(byVariant))
        if (f.length > 0) console.log(`Grid scroll [${v}], ${f.length} passes: ${frameSummary(f.flat())}`);
    }
    if (cpuLongest.length > 0) {
      cpuLongest.sort((a, b) => a - b);
      console.log(
        `Grid scroll, main-thread CPU of the longest frame: median ${Math.round(cpuLongest[Math.floor(cpuLongest.length / 2)])} ms, worst ${Math.round(cpuLongest.at(-1))} ms over ${cpuLongest.length} pass(es) (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`,
      );
    }
    report(`Grid scroll through ${runs} runs: longest frame of ${passes[0].length}`, worst, 100);
    // A loaded cell (a cell of a run still loading is veiled and has no data-run).
    await page.waitForSelector(".grid-cell[data-run][data-state]");
    await page.screenshot({ path: join(home, "..", "updraft-bench-ui-grid-bottom.png") });

    // The 50 MB log: first lines on screen, then (for the record) the whole log read in chunks.
    const logPage = `${base}/dags/${BIG_DAG}/runs/${encodeURIComponent(logRun)}/tasks/task_001`;
    await page.goto(logPage);
    await page.waitForSelector('.log-line[data-index="0"]');
    await page.goto(`${base}/dags`);
    await page.waitForSelector("table.dags tr[data-dag-id]");
    t0 = performance.now();
    await page.goto(logPage);
    await page.waitForSelector('.log-line[data-index="0"]');
    report("50 MB log: first lines", performance.now() - t0, 1000);
    await page.waitForFunction(
      () => !document.querySelector(".log-status")?.textContent?.includes("loading"),
      null,
      { timeout: 120_000, polling: 100 },
    );
    const status = await page.locator(".log-status").textContent();
    console.log(`50 MB log: all read (${status}) in ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
    await page.fill("input.log-search", "needle-in-the-log");
    await page.waitForFunction(() => document.querySelector(".log-matches")?.textContent === "1 of 1", null, {
      polling: 50,
    });
    console.log(`50 MB log: search to its one match in ${Math.round(performance.now() - t0)} ms`);
    await page.screenshot({ path: join(home, "..", "updraft-bench-ui-log.png") });
  } finally {
    await browser?.close();
    await server?.close();
    await serverB?.close();
    await database.close();
    await pgdb.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** In the page: scroll a screen a frame from the current position to the bottom; each frame's length. */
async function scrollToBottom() {
  const el = document.querySelector(".grid-scroll");
  const lengths = [];
  let last = performance.now();
  performance.mark("grid-frame-0");
  while (el.scrollTop + el.clientHeight < el.scrollHeight - 2) {
    el.scrollTop += el.clientHeight;
    await new Promise((r) => requestAnimationFrame(r));
    const now = performance.now();
    lengths.push(now - last);
    performance.mark(`grid-frame-${lengths.length}`);
    last = now;
  }
  return lengths;
}

function frameSummary(frames) {
  const sorted = [...frames].sort((a, b) => a - b);
  const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  const long = frames.flatMap((f, i) => (f > 100 ? [`#${i} ${Math.round(f)} ms`] : []));
  const listed = long.length > 8 ? [...long.slice(0, 8), "…"] : long;
  return `${frames.length} frames, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, longest ${Math.round(sorted.at(-1))} ms, over 100 ms: ${long.length}${long.length > 0 ? ` (${listed.join(", ")})` : ""}`;
}

/**
 * A 50 MB log of the newest run's task_001, where the runner would have written it: numbered lines,
 * one ERROR in a hundred, and one line to search for near the end. Returns the run id.
 */
async function writeBigLog(db, sql, folder, taskLogRelativePath) {
  const run = (
    await sql`select run_id from dag_run where dag_id = ${BIG_DAG} order by logical_date desc limit 1`.execute(
      db,
    )
  ).rows[0].run_id;
  const file = join(
    folder,
    taskLogRelativePath({ dag_id: BIG_DAG, run_id: run, task_id: "task_001", map_index: -1 }, 1),
  );
  mkdirSync(dirname(file), { recursive: true });
  const target = 50 * 1024 * 1024;
  const parts = [];
  let size = 0;
  for (let i = 0; size < target; i++) {
    const level = i % 100 === 99 ? "ERROR" : "INFO";
    const text = i === 300_000 ? "needle-in-the-log" : "x".repeat(80);
    const line = `2026-01-01T00:00:00.000Z ${level} [task] line ${i} ${text}\n`;
    parts.push(line);
    size += line.length;
  }
  writeFileSync(file, parts.join(""));
  return run;
}
