// Workload "runner-overhead": what a warm task runner adds per no-op task, from the workload's
// arrival over IPC to the API server's answer to `finish` (start, context, rendered fields, finish,
// log file), and the round trip through the LocalExecutor. The execution API is the in-test fake
// (test/runner/fake-execution-api.ts, bundled here with esbuild) in this process, so the figures
// include its HTTP handling. Usage: npm run bench -- runner-overhead [--tasks N] [--log-dir DIR]
// (task logs go to a temporary folder by default; --log-dir /dev/shm/x shows the cost without disk)
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { createRequire } from "node:module";
import { LocalExecutor } from "../packages/updraft/dist/executors/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNNER = join(here, "..", "packages", "updraft", "dist", "runner", "main.js");

async function loadFakeApi() {
  // esbuild is a dependency of the updraft package, not of the monorepo root.
  const requireFromPackage = createRequire(join(here, "..", "packages", "updraft", "package.json"));
  const { build } = await import(pathToFileURL(requireFromPackage.resolve("esbuild")).href);
  const outfile = join(here, ".out", "fake-execution-api.mjs");
  await build({
    entryPoints: [join(here, "..", "packages", "updraft", "test", "runner", "fake-execution-api.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "warning",
  });
  return import(pathToFileURL(outfile).href);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: { tasks: { type: "string", default: "300" }, "log-dir": { type: "string" } },
  });
  const n = Number(values.tasks);
  const root = mkdtempSync(join(tmpdir(), "updraft-bench-runner-"));
  const fileloc = join(root, "noop_dag.ts");
  writeFileSync(
    fileloc,
    `import { dag, task } from "updraft";\nexport default dag({ dagId: "noop_dag" }, () => { task("noop", () => undefined)(); });\n`,
  );
  const { startFakeExecutionApi } = await loadFakeApi();
  const api = await startFakeExecutionApi({
    logDir: values["log-dir"] ?? join(root, "logs"),
    heartbeatIntervalS: 5,
  });
  const env = { ...process.env, UPDRAFT_HOME: root };
  const workload = (i) =>
    api.queueTask({ dag_id: "noop_dag", run_id: `manual__${i}`, task_id: "noop" }, { fileloc });

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
  for (let i = 0; i < 20; i++) await runOne(workload(`warmup_${i}`)); // DAG module loaded, sockets open, JIT warm
  const runnerMs = [];
  const cpuMs = [];
  const ipcMs = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const done = await runOne(workload(i));
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
    const w = workload(`exec_${i}`);
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
