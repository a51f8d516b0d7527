// Workload "runner-overhead": what a warm task runner adds per no-op task, from the workload's
// arrival over IPC to the API server's answer to `finish` (start, context, finish, log file), and
// the round trip through the LocalExecutor. The execution API is the real API server on an
// in-memory database, in this process, so the figures include its HTTP handling and statements.
// Usage: npm run bench -- runner-overhead [--tasks N]
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { openMemoryDatabase } from "../packages/updraft/dist/db/index.js";
import { LocalExecutor } from "../packages/updraft/dist/executors/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNNER = join(here, "..", "packages", "updraft", "dist", "runner", "main.js");

const dist = (p) => pathToFileURL(join(here, "..", "packages", "updraft", "dist", p)).href;

/** The real API server on `database`, the DAG file loaded, and tries queued as the scheduler does. */
async function startApi(database, root, fileloc) {
  const { createApiServer } = await import(dist("api/index.js"));
  const { loadConfig } = await import(dist("config/index.js"));
  const { generateFernetKey } = await import(dist("db/index.js"));
  const { DagFileProcessor } = await import(dist("processor/index.js"));
  const { syncDagBag, triggerDagRun } = await import(dist("services/index.js"));
  const { signToken } = await import(dist("common/signed-token.js"));
  const { taskLogRelativePath } = await import(dist("model/log-path.js"));
  const { sql } = await import(
    pathToFileURL(createRequire(join(here, "..", "packages", "updraft", "package.json")).resolve("kysely"))
      .href
  );
  const secret = "bench-secret-key-0123456789abcdef";
  const logDir = join(root, "logs");
  const config = loadConfig({
    home: root,
    env: {},
    overrides: { "core.fernet_key": generateFernetKey(), "logging.base_log_folder": logDir },
  });
  const server = createApiServer({
    database,
    config,
    events: null,
    secretKey: secret,
    heartbeatIntervalS: 5,
  });
  const url = await server.listen(0, "127.0.0.1");
  const processor = new DagFileProcessor(fileloc, { cacheDir: join(root, "cache"), parsingProcesses: 1 });
  await syncDagBag(database.db, await processor.refresh(), { pausedAtCreation: false });
  await processor.close();
  let date = Date.UTC(2026, 0, 1);
  return {
    async workload(i) {
      const ti = { dag_id: "noop_dag", run_id: `manual__${i}`, task_id: "noop", map_index: -1 };
      await triggerDagRun(database.db, {
        dagId: ti.dag_id,
        runId: ti.run_id,
        logicalDate: new Date((date += 60_000)),
      });
      await sql`update task_instance set state = 'queued', try_number = 1, queued_dttm = now()
        where dag_id = ${ti.dag_id} and run_id = ${ti.run_id} and task_id = 'noop' and state is null`.execute(
        database.db,
      );
      return {
        kind: "task",
        ti,
        try_number: 1,
        fileloc,
        token: signToken(
          { ti, try_number: 1, exp: Math.floor(Date.now() / 1000) + 3600, scope: "task" },
          secret,
        ),
        api_url: url,
        log_path: join(logDir, taskLogRelativePath(ti, 1)),
        fresh_process: false,
        queue: "default",
        priority_weight: 1,
        execution_timeout_ms: null,
      };
    },
    close: () => server.close(),
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: { tasks: { type: "string", default: "300" } },
  });
  const n = Number(values.tasks);
  const root = mkdtempSync(join(tmpdir(), "updraft-bench-runner-"));
  const fileloc = join(root, "noop_dag.ts");
  writeFileSync(
    fileloc,
    `import { dag, task } from "updraft";\nexport default dag({ dagId: "noop_dag" }, () => { task("noop", () => undefined)(); });\n`,
  );
  const database = await openMemoryDatabase(join(tmpdir(), "updraft-bench-cache"));
  const api = await startApi(database, root, fileloc);
  const env = { ...process.env, UPDRAFT_HOME: root };
  const workload = (i) => api.workload(i);

  // 1. One warm runner over IPC, as the executor drives it.
  const child = fork(RUNNER, ["--max-tasks", String(n + 20)], {
    env,
    execArgv: [
      "--enable-source-maps",
      ...(process.env.RUNNER_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.RUNNER_PROF}`] : []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise((resolve) => child.once("message", resolve)); // ready
  const runOne = (w) =>
    new Promise((resolve) => {
      child.once("message", resolve);
      child.send({ type: "run", workload: w });
    });
  for (let i = 0; i < 20; i++) await runOne(await workload(`warmup_${i}`)); // DAG module loaded, sockets open, JIT warm
  const runnerMs = [];
  const cpuMs = [];
  const ipcMs = [];
  for (let i = 0; i < n; i++) {
    const w = await workload(i);
    const t0 = performance.now();
    const done = await runOne(w);
    ipcMs.push(performance.now() - t0);
    runnerMs.push(done.total_ms);
    cpuMs.push(done.cpu_ms);
    if (done.state !== "success") throw new Error(`task ended ${done.state}`);
  }
  child.disconnect();

  // 2. Through the LocalExecutor (queueWorkload → finished event).
  const executor = new LocalExecutor({ parallelism: 2, env });
  await executor.start();
  const executorMs = [];
  for (let i = 0; i < n + 20; i++) {
    const w = await workload(`exec_${i}`);
    const t0 = performance.now();
    await new Promise((resolve) => {
      const off = executor.onEvent((e) => {
        if (e.ti.run_id === w.ti.run_id) {
          off();
          resolve(e);
        }
      });
      executor.queueWorkload(w);
    });
    if (i >= 20) executorMs.push(performance.now() - t0);
  }
  await executor.stop({ graceful: true, timeoutMs: 2000 });
  await api.close();
  await database.close();
  rmSync(root, { recursive: true, force: true });

  const result = {
    workload: "runner-overhead",
    tasks: n,
    runner_ms_median: +median(runnerMs).toFixed(3),
    runner_ms_p90: +p90(runnerMs).toFixed(3),
    runner_cpu_ms_median: +median(cpuMs).toFixed(3),
    ipc_round_trip_ms_median: +median(ipcMs).toFixed(3),
    executor_round_trip_ms_median: +median(executorMs).toFixed(3),
  };
  console.log(JSON.stringify(result));
  console.log(
    `warm runner overhead per no-op task: median ${result.runner_ms_median} ms (p90 ${result.runner_ms_p90} ms) from workload received to finish answered (runner CPU ${result.runner_cpu_ms_median} ms per task); IPC round trip ${result.ipc_round_trip_ms_median} ms; LocalExecutor queue→finished ${result.executor_round_trip_ms_median} ms`,
  );
}
