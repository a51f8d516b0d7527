// Engine benchmarks: `npm run bench -- engine [workload…] [--db pglite|postgres|both] [--reps N] [--no-peer]
// [--executor local|queue|both]` (queue: the QueueExecutor with two `updraft worker` processes on
// this machine and Redis on 127.0.0.1:6379, printed beside the LocalExecutor and bare BullMQ).
// Workloads: chain100, fan200, chain40_light, throughput (100 runs × 100 tasks at once),
// throughput_100k (1,000 runs × 100 tasks; one rep unless --reps is given; not run by default).
// Each runs the real engine in this process (API server, scheduler, LocalExecutor with warm
// runner processes, execution API over HTTP) on PGlite and on PostgreSQL, side by side with a
// peer (graphile-worker) in the same run. Prints one JSON line per workload and database.
// With --executor queue, reps alternate local and queue (each in a fresh engine), and CPU per task
// covers every process involved (workers, their runners, redis-server) beside the machine's busy
// cores: `cores_busy.machine` near the core count means CPU-bound, well below it latency-bound.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { runGraphileWorker, throwawayPostgres } from "./lib/peers.mjs";
import { childPids, descendants, machineCpuMs, pidsNamed, procCpuMs } from "./lib/proc-cpu.mjs";
import { writeBenchDags } from "./lib/dags.mjs";
import { bareBullmq, benchKeyPrefix, BENCH_REDIS_URL, startQueueWorkers } from "./lib/queue-workers.mjs";

const dist = join(
  import.meta.dirname ?? new URL(".", import.meta.url).pathname,
  "..",
  "packages",
  "updraft",
  "dist",
);
// UPDRAFT_TRACE_SQL=1: per-statement counts and client-side times, printed at exit.
if (process.env.UPDRAFT_TRACE_SQL) {
  const pg = (await import("pg")).default;
  const orig = pg.Client.prototype.query;
  const stats = new Map();
  pg.Client.prototype.query = function (config, values, cb) {
    const text = typeof config === "string" ? config : config?.text;
    const t0 = performance.now();
    const r = orig.call(this, config, values, cb);
    const done = () => {
      const k = String(text).replace(/\s+/g, " ").slice(0, 90);
      const s = stats.get(k) ?? { n: 0, ms: 0, max: 0 };
      const d = performance.now() - t0;
      s.n++;
      s.ms += d;
      s.max = Math.max(s.max, d);
      stats.set(k, s);
    };
    if (r && typeof r.then === "function") r.then(done, done);
    return r;
  };
  process.on("exit", () => {
    for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25))
      process.stderr.write(
        `${s.n.toString().padStart(6)} ${(s.ms / s.n).toFixed(2).padStart(7)} ms avg ${s.max.toFixed(1).padStart(7)} max  ${k}\n`,
      );
  });
}
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
  chain40_light: { dagId: "bench_chain40_light", runs: 1, tasks: 40, chain: "f" },
  throughput: { dagId: "bench_throughput", runs: 100, tasks: 10_000, api: true },
  throughput_100k: { dagId: "bench_throughput", runs: 1000, tasks: 100_000, api: true, reps: 1, optIn: true },
};

/** The issue's goals (docs/decisions/0011-hot-path.md), per workload and database. */
const GOALS = {
  postgres: {
    chain100: { wall_ms: 300, edge_p50_ms: 2 },
    fan200: { wall_ms: 350 },
    chain40_light: { wall_ms: 150 },
    throughput: { tasks_per_s: 1000, pg_cpu_ms: 1 },
  },
  pglite: {
    chain100: { wall_ms: 800 },
    fan200: { wall_ms: 1000 },
    throughput: { tasks_per_s: 300, api_p95_ms: 50 },
  },
};

async function withEngine(dbKind, dagsFolder, executor, fn) {
  const { loadConfig } = await load("config/index.js");
  const { openDatabase, openMemoryDatabase } = await load("db/index.js");
  const { startEngine } = await load("cli/engine.js");
  const { setDagPaused, createUser, createApiToken, randomPassword } = await load("services/index.js");
  const pino = (await import("pino")).default;
  const home = mkdtempSync(join(tmpdir(), "updraft-bench-"));
  let pgdb = null;
  let url = null;
  if (dbKind === "postgres") {
    pgdb = await throwawayPostgres("updraft_bench");
    url = pgdb.url;
  }
  const prefix = benchKeyPrefix();
  const config = loadConfig({
    home,
    overrides: {
      ...(executor === "queue"
        ? {
            "core.executor": "QueueExecutor",
            "queue.broker_url": BENCH_REDIS_URL,
            "queue.key_prefix": prefix,
          }
        : {}),
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
    // The benchmark DAGs must be in the database before the first trigger.
    awaitFirstParse: true,
  });
  const workers = executor === "queue" ? await startQueueWorkers({ home, prefix }) : null;
  try {
    const db = engine.database.db;
    // Benchmarks trigger their own runs: no scheduled ones.
    await db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
    for (const w of Object.values(WORKLOADS)) await setDagPaused(db, w.dagId, false);
    // The REST API needs credentials: the API poller authenticates as a Viewer with a token.
    await createUser(db, {
      username: "bench",
      email: "bench@localhost",
      password: randomPassword(),
      roles: ["Viewer"],
    });
    const { token: apiToken } = await createApiToken(db, "bench");
    return await fn(Object.assign(engine, { home, apiToken, workerPids: workers?.pids ?? [] }));
  } finally {
    await workers?.stop();
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
  // Wall time is measured from the trigger to the last run's end_date (the database's clock, the
  // same machine's clock as Date.now()), so that the completion check can poll slowly: a tight
  // poll costs a PostgreSQL backend and this process CPU time the engine would otherwise use.
  const t0 = Date.now();
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
    await new Promise((r) => setTimeout(r, 50));
    const rows = await db
      .selectFrom("dag_run")
      .select(["run_id", "state", "end_date"])
      .where("dag_id", "=", w.dagId)
      .where("run_id", "in", ids)
      .execute();
    if (rows.length === ids.length && rows.every((r) => r.state === "success" || r.state === "failed")) {
      if (rows.some((r) => r.state === "failed")) throw new Error(`${w.dagId}: a run failed`);
      const end = Math.max(...rows.map((r) => r.end_date?.getTime() ?? Date.now()));
      const last = await db
        .selectFrom("task_instance")
        .select((eb) => eb.fn.max("end_date").as("end"))
        .where("dag_id", "=", w.dagId)
        .where("run_id", "in", ids)
        .executeTakeFirst();
      const lastTask = last?.end ? new Date(last.end).getTime() - t0 : NaN;
      // Tries a runner took with the finish of the one before (decision 0011) carry no scheduler job.
      const handed = await db
        .selectFrom("task_instance")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("dag_id", "=", w.dagId)
        .where("run_id", "in", ids)
        .where("queued_by_job_id", "is", null)
        .executeTakeFirst();
      return { wall: end - t0, lastTask, ids, handedOver: Number(handed?.n ?? 0) / w.tasks };
    }
  }
}

/**
 * CPU time used so far (ms) by every process a run involves, by part: `main` this process (engine
 * and bench), `runners` the LocalExecutor's runner processes (its children, with the ones that
 * exited), `workers` the `updraft worker` processes and `worker_runners` their runner processes,
 * `redis` the redis-server, `pg` the bench database's backends and `pg_bg` PostgreSQL's background
 * processes (WAL writer, checkpointer…); and the whole machine's busy and total CPU, so that idle
 * cores show (a latency-bound run) beside CPU per task (a CPU-bound one). CPU per task is also
 * steadier than wall time on a loaded machine.
 */
async function cpuNow(engine, dbKind, workerPids) {
  const self = process.cpuUsage();
  // This process's exited children (retired runners) are in its cutime; its live ones below.
  const reaped = procCpuMs(process.pid, { reaped: true }) - procCpuMs(process.pid);
  const out = { main: (self.user + self.system) / 1000, pids: new Map(), reaped, machine: machineCpuMs() };
  const workers = new Set(workerPids);
  for (const c of childPids(process.pid)) {
    if (workers.has(c)) {
      out.pids.set(`w${c}`, procCpuMs(c));
      out.pids.set(`e${c}`, procCpuMs(c, { reaped: true }) - procCpuMs(c));
      for (const r of descendants(c)) out.pids.set(`v${r}`, procCpuMs(r));
    } else {
      out.pids.set(`r${c}`, procCpuMs(c));
      for (const r of descendants(c)) out.pids.set(`r${r}`, procCpuMs(r));
    }
  }
  for (const pid of pidsNamed("redis-server")) out.pids.set(`x${pid}`, procCpuMs(pid));
  if (dbKind === "postgres") {
    const { sql } = await import("kysely");
    const r = await sql`select pid, datname = current_database() as mine, backend_type
      from pg_stat_activity where pid is not null`.execute(engine.database.db);
    for (const { pid, mine, backend_type } of r.rows) {
      if (mine) out.pids.set(`p${pid}`, procCpuMs(pid));
      else if (backend_type !== "client backend") out.pids.set(`b${pid}`, procCpuMs(pid));
    }
  }
  return out;
}
const CPU_PARTS = {
  r: "runners",
  w: "workers",
  v: "worker_runners",
  e: "exited",
  x: "redis",
  p: "pg",
  b: "pg_bg",
};
function cpuDelta(a, b) {
  // exited: processes that ended during the run (retired runners, the DAG processor's evaluations).
  const d = { main: b.main - a.main, exited: b.reaped - a.reaped };
  for (const k of Object.values(CPU_PARTS)) d[k] ??= 0;
  for (const [k, v] of b.pids) d[CPU_PARTS[k[0]]] += v - (a.pids.get(k) ?? 0);
  // A runner that exited meanwhile brought its whole life's CPU into its parent's cutime: what it
  // had used before the first snapshot is not this run's.
  for (const [k, v] of a.pids) if ((k[0] === "r" || k[0] === "v") && !b.pids.has(k)) d.exited -= v;
  d.total = Object.values(d).reduce((x, y) => x + y, 0);
  d.machine_busy = b.machine.busy - a.machine.busy;
  d.machine_total = b.machine.total - a.machine.total;
  return d;
}

/**
 * GET /api/v1/dags every 20 ms while `fn` runs: the API must stay responsive under load. Returns
 * fn's result and the request latencies.
 */
async function withApiPoller(engine, fn) {
  const latencies = [];
  let stop = false;
  const poll = (async () => {
    while (!stop) {
      const t0 = performance.now();
      const res = await fetch(`${engine.url}/api/v1/dags?limit=100`, {
        headers: { authorization: `Bearer ${engine.apiToken}` },
      });
      if (res.status !== 200) throw new Error(`GET /api/v1/dags answered ${res.status}`);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return { result: await fn(), latencies };
  } finally {
    stop = true;
    await poll;
  }
}

/**
 * The edge as the runners saw it, from the task logs: downstream "Starting attempt" line minus
 * upstream "Marking task as" line (the database's timestamps cannot show it: a handed-over try
 * starts in the statement that ends the one before).
 */
function logEdges(home, w, runId) {
  if (!w.chain) return [];
  const base = join(home, "logs", `dag_id=${w.dagId}`, `run_id=${runId}`);
  const stamp = (taskId, pattern) => {
    try {
      const text = readFileSync(join(base, `task_id=${taskId}`, "attempt=1.log"), "utf8");
      const line = text.split("\n").find((l) => pattern.test(l));
      return line === undefined ? null : Date.parse(line.slice(0, line.indexOf(" ")));
    } catch {
      return null;
    }
  };
  const out = [];
  for (let i = 0; i + 1 < w.tasks; i++) {
    const end = stamp(`${w.chain}${i}`, /Marking task as/);
    const start = stamp(`${w.chain}${i + 1}`, /Starting attempt/);
    if (end !== null && start !== null) out.push(start - end);
  }
  return out;
}

async function edgeLatencies(engine, w, runId) {
  if (!w.chain) return [];
  const rows = await engine.database.db
    .selectFrom("task_instance")
    .select(["task_id", "start_date", "end_date", "queued_dttm"])
    .where("dag_id", "=", w.dagId)
    .where("run_id", "=", runId)
    .execute();
  const by = new Map(rows.map((r) => [r.task_id, r]));
  const gaps = [];
  const toQueued = [];
  const toStart = [];
  const run = [];
  for (let i = 0; i + 1 < w.tasks; i++) {
    const a = by.get(`${w.chain}${i}`);
    const b = by.get(`${w.chain}${i + 1}`);
    if (a?.end_date && b?.start_date) gaps.push(b.start_date.getTime() - a.end_date.getTime());
    // Where an edge's time goes: finish → queued (scheduler), queued → start (executor, runner).
    if (a?.end_date && b?.queued_dttm) toQueued.push(b.queued_dttm.getTime() - a.end_date.getTime());
    if (b?.queued_dttm && b?.start_date) toStart.push(b.start_date.getTime() - b.queued_dttm.getTime());
    if (b?.start_date && b?.end_date) run.push(b.end_date.getTime() - b.start_date.getTime());
  }
  return Object.assign(gaps, { toQueued, toStart, run });
}

async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      db: { type: "string", default: "both" },
      reps: { type: "string", default: "3" },
      "no-peer": { type: "boolean", default: false },
      executor: { type: "string", default: "local" },
    },
  });
  const names =
    positionals.length > 0 ? positionals : Object.keys(WORKLOADS).filter((n) => !WORKLOADS[n].optIn);
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

  const executors =
    values.executor === "both" || values.executor === "queue" ? ["local", "queue"] : ["local"];
  let bare = null;
  if (executors.includes("queue")) {
    process.stderr.write("running bare BullMQ …\n");
    bare = await bareBullmq(reps);
  }
  // Reps interleave the executors (local, queue; then queue, local; …), each in a fresh engine
  // with its own warm-up, so that a machine shared with other work disturbs both alike.
  const samples = new Map();
  const sampleOf = (name, dbKind, executor) => {
    const k = `${name} ${dbKind} ${executor}`;
    if (!samples.has(k))
      samples.set(k, {
        walls: [],
        lastTask: [],
        gaps: [],
        runnerEdges: [],
        apiMs: [],
        parts: { toQueued: [], toStart: [], run: [] },
        cpus: [],
        loads: [],
        runnerProcs: [],
        handedOver: [],
      });
    return samples.get(k);
  };
  const maxReps = Math.max(...names.map((n) => WORKLOADS[n].reps ?? reps));
  for (const dbKind of dbs)
    for (let rep = 0; rep < maxReps; rep++) {
      const order = rep % 2 === 0 ? executors : [...executors].reverse();
      for (const executor of order) {
        const todo = names.filter((n) => rep < (WORKLOADS[n].reps ?? reps));
        if (todo.length === 0) continue;
        await withEngine(dbKind, dagsFolder, executor, async (engine) => {
          for (const name of todo) {
            const w = WORKLOADS[name];
            const s = sampleOf(name, dbKind, executor);
            // Warm-up, three rounds: fresh workers grow their runner pools over the first rounds,
            // and a pool still spawning processes during a 300 ms chain doubles its runners' CPU.
            for (let k = 1; k <= 3; k++) await runOnce(engine, { ...w, runs: Math.min(w.runs, 5) }, -k);
            const c0 = await cpuNow(engine, dbKind, engine.workerPids);
            const measured = w.api
              ? await withApiPoller(engine, () => runOnce(engine, w, rep))
              : { result: await runOnce(engine, w, rep), latencies: [] };
            const { wall, lastTask, ids, handedOver } = measured.result;
            s.handedOver.push(handedOver);
            const c1 = await cpuNow(engine, dbKind, engine.workerPids);
            s.loads.push(loadavg()[0]);
            s.apiMs.push(...measured.latencies);
            s.cpus.push({ ...cpuDelta(c0, c1), wall });
            // Runner processes alive at the end: the parallelism each executor really used.
            s.runnerProcs.push([...c1.pids.keys()].filter((k) => k[0] === "r" || k[0] === "v").length);
            s.walls.push(wall);
            s.lastTask.push(lastTask);
            const g = await edgeLatencies(engine, w, ids[0]);
            s.gaps.push(...g);
            s.runnerEdges.push(...logEdges(engine.home, w, ids[0]));
            for (const k of Object.keys(s.parts)) s.parts[k].push(...(g[k] ?? []));
            process.stderr.write(
              `rep ${rep} ${name} ${dbKind} ${executor}: ${wall} ms (last task ${lastTask} ms), load ${loadavg()[0].toFixed(1)}\n`,
            );
          }
        });
      }
    }
  const results = [];
  for (const dbKind of dbs)
    for (const executor of executors)
      for (const name of names) {
        const w = WORKLOADS[name];
        const { walls, lastTask, gaps, runnerEdges, apiMs, parts, cpus, loads, runnerProcs, handedOver } =
          sampleOf(name, dbKind, executor);
        const wall = med(walls);
        const perTask = (k) => +(med(cpus.map((c) => c[k])) / w.tasks).toFixed(2);
        const cores = (k) => +med(cpus.map((c) => c[k] / c.wall)).toFixed(2);
        const r = {
          workload: name,
          db: dbKind,
          executor,
          wall_ms: +wall.toFixed(1),
          tasks_per_s: +((w.tasks / wall) * 1000).toFixed(0),
          walls_ms: walls.map((x) => +x.toFixed(1)),
          // From the trigger to the last task's end (the run's end can come later: its check).
          last_task_ms: lastTask,
          // CPU per task (ms, medians over reps) of every process involved (see cpuNow).
          cpu_per_task_ms: Object.fromEntries(
            ["main", "runners", "workers", "worker_runners", "exited", "redis", "pg", "pg_bg", "total"].map(
              (k) => [k, perTask(k)],
            ),
          ),
          // Cores busy on average during the run: these processes, and the whole machine (of nproc).
          cores_busy: {
            ours: cores("total"),
            machine: +med(
              cpus.map((c) => (c.machine_busy / c.machine_total) * availableParallelism()),
            ).toFixed(2),
            of: availableParallelism(),
          },
          load_avg: loads.map((l) => +l.toFixed(1)),
          runner_processes: med(runnerProcs),
          // Share of the tries a runner took with its finish of the one before (no scheduler pass).
          handed_over: +med(handedOver).toFixed(3),
        };
        if (apiMs.length > 0) {
          r.api_p50_ms = +pct(apiMs, 0.5).toFixed(1);
          r.api_p95_ms = +pct(apiMs, 0.95).toFixed(1);
        }
        if (runnerEdges.length > 0) {
          // The edge as the runners saw it (task logs), and in the database's timestamps.
          r.edge_p50_ms = +pct(runnerEdges, 0.5).toFixed(2);
          r.edge_p90_ms = +pct(runnerEdges, 0.9).toFixed(2);
        }
        if (gaps.length > 0) {
          r.db_edge_p50_ms = +pct(gaps, 0.5).toFixed(2);
          r.db_edge_p90_ms = +pct(gaps, 0.9).toFixed(2);
          // p50 of the edge's parts: finish → queued, queued → start, and start → end of a task.
          r.finish_to_queued_p50_ms = +pct(parts.toQueued, 0.5).toFixed(2);
          r.queued_to_start_p50_ms = +pct(parts.toStart, 0.5).toFixed(2);
          r.start_to_end_p50_ms = +pct(parts.run, 0.5).toFixed(2);
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
  rmSync(dagsFolder, { recursive: true, force: true });
  console.log("\nsummary (median of %d; ratio = time per task vs the peer's, < 1 is faster):", reps);
  for (const r of results) {
    console.log(
      `  ${r.workload.padEnd(16)} ${r.db.padEnd(8)} ${r.executor.padEnd(5)} ${String(r.wall_ms).padStart(8)} ms  ${String(r.tasks_per_s).padStart(6)} tasks/s` +
        (r.edge_p50_ms !== undefined ? `  edge p50 ${r.edge_p50_ms} ms p90 ${r.edge_p90_ms} ms` : "") +
        (r.api_p95_ms !== undefined ? `  GET /dags p95 ${r.api_p95_ms} ms` : "") +
        `  handed over ${(r.handed_over * 100).toFixed(1)}%` +
        `  CPU/task ${Object.entries(r.cpu_per_task_ms)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(
            " ",
          )} ms  cores busy ${r.cores_busy.ours} (machine ${r.cores_busy.machine} of ${r.cores_busy.of})` +
        (r.peer ? `  vs ${r.peer}: ${r.peer_wall_ms} ms, ratio ${r.ratio}` : ""),
    );
  }
  if (bare !== null) {
    console.log(
      "\nQueueExecutor (2 workers) beside the LocalExecutor, and bare BullMQ (2 workers × 8, no history):",
    );
    for (const q of results.filter((r) => r.executor === "queue")) {
      const l = results.find((r) => r.executor === "local" && r.workload === q.workload && r.db === q.db);
      if (!l) continue;
      const bareFigure =
        q.workload === "chain100"
          ? `bare BullMQ ${bare.chain100_ms} ms`
          : q.workload === "throughput"
            ? `bare BullMQ ${bare.throughput_tasks_per_s} tasks/s`
            : "";
      const goal =
        q.workload === "chain100"
          ? `goal ≤ 1.5×: ${q.wall_ms <= 1.5 * l.wall_ms ? "met" : "NOT met"}`
          : q.workload === "throughput"
            ? `goal ≥ local: ${q.tasks_per_s >= l.tasks_per_s ? "met" : "NOT met"}`
            : "";
      console.log(
        `  ${q.workload.padEnd(16)} ${q.db.padEnd(8)} local ${l.wall_ms} ms (${l.tasks_per_s} tasks/s)  queue ${q.wall_ms} ms (${q.tasks_per_s} tasks/s)  queue/local ${(q.wall_ms / l.wall_ms).toFixed(2)}×  ${bareFigure}  ${goal}`,
      );
    }
  }
  const k10 = results.find((r) => r.workload === "throughput" && r.db === "postgres");
  const k100 = results.find((r) => r.workload === "throughput_100k" && r.db === "postgres");
  if (k10 && k100)
    console.log(
      `  throughput_100k / throughput (postgres): ${(k100.tasks_per_s / k10.tasks_per_s).toFixed(2)} (goal ≥ 0.75)`,
    );
  console.log("\ngoals:");
  for (const r of results) {
    const goal = r.executor === "local" ? GOALS[r.db]?.[r.workload] : undefined;
    if (!goal) continue;
    const checks = [];
    if (goal.wall_ms !== undefined)
      checks.push(`${r.wall_ms} ms ≤ ${goal.wall_ms}: ${r.wall_ms <= goal.wall_ms ? "met" : "NOT met"}`);
    if (goal.edge_p50_ms !== undefined && r.edge_p50_ms !== undefined)
      checks.push(
        `edge p50 ${r.edge_p50_ms} ms ≤ ${goal.edge_p50_ms}: ${r.edge_p50_ms <= goal.edge_p50_ms ? "met" : "NOT met"}`,
      );
    if (goal.tasks_per_s !== undefined)
      checks.push(
        `${r.tasks_per_s} tasks/s ≥ ${goal.tasks_per_s}: ${r.tasks_per_s >= goal.tasks_per_s ? "met" : "NOT met"}`,
      );
    if (goal.pg_cpu_ms !== undefined)
      checks.push(
        `PostgreSQL CPU ${r.cpu_per_task_ms.pg} ms/task ≤ ${goal.pg_cpu_ms}: ${r.cpu_per_task_ms.pg <= goal.pg_cpu_ms ? "met" : "NOT met"}`,
      );
    if (goal.api_p95_ms !== undefined && r.api_p95_ms !== undefined)
      checks.push(
        `GET /dags p95 ${r.api_p95_ms} ms ≤ ${goal.api_p95_ms}: ${r.api_p95_ms <= goal.api_p95_ms ? "met" : "NOT met"}`,
      );
    console.log(`  ${r.workload.padEnd(16)} ${r.db.padEnd(8)} ${checks.join("; ")}`);
  }
}

export { main };
