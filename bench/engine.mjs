// Engine benchmarks: `npm run bench -- engine [workload…] [--db pglite|postgres|both] [--reps N] [--no-peer]`.
// Workloads: chain100, fan200, throughput (100 runs × 100 tasks at once), chain40_light.
// Each runs the real engine in this process (API server, scheduler, LocalExecutor with warm
// runner processes, execution API over HTTP) on PGlite and on PostgreSQL, side by side with a
// peer (graphile-worker) in the same run. Prints one JSON line per workload and database.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { runGraphileWorker, throwawayPostgres } from "./lib/peers.mjs";
import { writeBenchDags } from "./lib/dags.mjs";

const dist = join(
  import.meta.dirname ?? new URL(".", import.meta.url).pathname,
  "..",
  "packages",
  "updraft",
  "dist",
);
const load = (p) => import(pathToFileURL(join(dist, p)).href);

const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const WORKLOADS = {
  chain100: { dagId: "bench_chain100", runs: 1, tasks: 100, chain: "t" },
  fan200: { dagId: "bench_fan200", runs: 1, tasks: 202 },
  throughput: { dagId: "bench_throughput", runs: 100, tasks: 10_000 },
  chain40_light: { dagId: "bench_chain40_light", runs: 1, tasks: 40, chain: "f" },
};

async function withEngine(dbKind, dagsFolder, fn) {
  const { loadConfig } = await load("config/index.js");
  const { openDatabase, openMemoryDatabase } = await load("db/index.js");
  const { startEngine } = await load("cli/engine.js");
  const { setDagPaused } = await load("services/index.js");
  const pino = (await import("pino")).default;
  const home = mkdtempSync(join(tmpdir(), "updraft-bench-"));
  let pgdb = null;
  let url = null;
  if (dbKind === "postgres") {
    pgdb = await throwawayPostgres("updraft_bench");
    url = pgdb.url;
  }
  const config = loadConfig({
    home,
    overrides: {
      "logging.base_log_folder": join(home, "logs"),
      "core.dags_are_paused_at_creation": false,
      ...(url ? { "database.sql_alchemy_conn": url } : {}),
    },
  });
  const database = url
    ? await openDatabase(config)
    : await openMemoryDatabase(join(tmpdir(), "updraft-bench-cache"));
  const engine = await startEngine({
    config,
    dagsFolder,
    database,
    parts: { api: true, scheduler: true, processor: true },
    logger: pino({ level: "warn" }),
    secretKey: randomBytes(32).toString("base64url"),
    port: 0,
    host: "127.0.0.1",
  });
  try {
    const db = engine.database.db;
    // Benchmarks trigger their own runs: no scheduled ones.
    await db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
    for (const w of Object.values(WORKLOADS)) await setDagPaused(db, w.dagId, false);
    return await fn(engine);
  } finally {
    await engine.stop();
    if (url) await database.close();
    await pgdb?.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Triggers `runs` runs at once and waits until all are finished; returns wall ms and the run ids. */
async function runOnce(engine, w, rep) {
  const { triggerDagRun } = await load("services/index.js");
  const db = engine.database.db;
  const t0 = performance.now();
  const ids = [];
  for (let i = 0; i < w.runs; i++) {
    const r = await triggerDagRun(
      db,
      {
        dagId: w.dagId,
        runId: `bench_${rep}_${i}`,
        logicalDate: new Date(Date.UTC(2026, 0, 1) + rep * 1e6 + i * 1000),
      },
      { events: engine.events },
    );
    ids.push(r.run_id);
  }
  for (;;) {
    const rows = await db
      .selectFrom("dag_run")
      .select(["run_id", "state"])
      .where("dag_id", "=", w.dagId)
      .where("run_id", "in", ids)
      .execute();
    if (rows.length === ids.length && rows.every((r) => r.state === "success" || r.state === "failed")) {
      const wall = performance.now() - t0;
      if (rows.some((r) => r.state === "failed")) throw new Error(`${w.dagId}: a run failed`);
      return { wall, ids };
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function edgeLatencies(engine, w, runId) {
  if (!w.chain) return [];
  const rows = await engine.database.db
    .selectFrom("task_instance")
    .select(["task_id", "start_date", "end_date"])
    .where("dag_id", "=", w.dagId)
    .where("run_id", "=", runId)
    .execute();
  const by = new Map(rows.map((r) => [r.task_id, r]));
  const gaps = [];
  for (let i = 0; i + 1 < w.tasks; i++) {
    const a = by.get(`${w.chain}${i}`);
    const b = by.get(`${w.chain}${i + 1}`);
    if (a?.end_date && b?.start_date) gaps.push(b.start_date.getTime() - a.end_date.getTime());
  }
  return gaps;
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      db: { type: "string", default: "both" },
      reps: { type: "string", default: "3" },
      "no-peer": { type: "boolean", default: false },
    },
  });
  const names = positionals.length > 0 ? positionals : Object.keys(WORKLOADS);
  for (const n of names)
    if (!WORKLOADS[n]) throw new Error(`unknown workload ${n}; known: ${Object.keys(WORKLOADS).join(", ")}`);
  const reps = Math.max(1, Number(values.reps));
  const dbs = values.db === "both" ? ["pglite", "postgres"] : [values.db];
  const dagsFolder = mkdtempSync(join(tmpdir(), "updraft-bench-dags-"));
  writeBenchDags(dagsFolder);

  let peer = null;
  if (!values["no-peer"]) {
    process.stderr.write("running the peer (graphile-worker) …\n");
    peer = await runGraphileWorker(reps);
  }
  const peerOf = (name) => {
    if (!peer) return null;
    const conc2 = peer.filter((r) => r.settings.startsWith("concurrency=2"));
    if (name === "fan200") return conc2.find((r) => r.workload === "W1") ?? null;
    if (name.startsWith("chain")) return conc2.find((r) => r.workload === "W2") ?? null;
    return conc2.find((r) => r.workload === "W1") ?? null;
  };

  const results = [];
  for (const dbKind of dbs) {
    await withEngine(dbKind, dagsFolder, async (engine) => {
      for (const name of names) {
        const w = WORKLOADS[name];
        await runOnce(engine, { ...w, runs: Math.min(w.runs, 5) }, -1); // warm-up
        const walls = [];
        const gaps = [];
        for (let rep = 0; rep < reps; rep++) {
          const { wall, ids } = await runOnce(engine, w, rep);
          walls.push(wall);
          gaps.push(...(await edgeLatencies(engine, w, ids[0])));
        }
        const wall = med(walls);
        const r = {
          workload: name,
          db: dbKind,
          wall_ms: +wall.toFixed(1),
          tasks_per_s: +((w.tasks / wall) * 1000).toFixed(0),
          walls_ms: walls.map((x) => +x.toFixed(1)),
        };
        if (gaps.length > 0) {
          r.edge_p50_ms = +pct(gaps, 0.5).toFixed(2);
          r.edge_p90_ms = +pct(gaps, 0.9).toFixed(2);
        }
        const p = peerOf(name);
        if (p) {
          r.peer = `graphile-worker ${p.workload} (${p.tasks} tasks, concurrency 2)`;
          r.peer_wall_ms = p.wall_ms_median;
          // Same shape, different sizes: compare time per task.
          r.ratio = +(wall / w.tasks / (p.wall_ms_median / p.tasks)).toFixed(2);
        }
        console.log(JSON.stringify(r));
        results.push(r);
      }
    });
  }
  rmSync(dagsFolder, { recursive: true, force: true });
  console.log("\nsummary (median of %d; ratio = time per task vs the peer's, < 1 is faster):", reps);
  for (const r of results) {
    console.log(
      `  ${r.workload.padEnd(14)} ${r.db.padEnd(8)} ${String(r.wall_ms).padStart(8)} ms  ${String(r.tasks_per_s).padStart(6)} tasks/s` +
        (r.edge_p50_ms !== undefined ? `  edge p50 ${r.edge_p50_ms} ms p90 ${r.edge_p90_ms} ms` : "") +
        (r.peer ? `  vs ${r.peer}: ${r.peer_wall_ms} ms, ratio ${r.ratio}` : ""),
    );
  }
}

export { main };
