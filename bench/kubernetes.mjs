// Workload "kubernetes": the KubernetesExecutor's own overhead per Pod, beyond the API calls. The
// Kubernetes API simulator runs in a child process (`npm run kube-sim`), with an image whose base
// container exits at once; this process runs the executor alone (no scheduler, no database) and
// queues N workloads at once, R times. Per Pod it reports: time in the executor's own code
// (building the Pod from the template and podOverride, handling watch events), time waiting on
// API answers and their count, this process's CPU (the executor plus the client library), and
// the wall time from queuing to the Pod's end being reported. Medians over the R runs.
// Usage: npm run bench -- kubernetes [--pods N] [--runs R] [--batch B]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { KubernetesExecutor } from "../packages/updraft/dist/executors/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quiet = { debug() {}, info() {}, warn() {}, error: (o, m) => console.error(m, o) };

/** `npm run kube-sim` in a child process; resolves once it serves. */
async function startSim(dir) {
  const kubeconfig = join(dir, "kubeconfig.yaml");
  const images = join(dir, "images.json");
  // The base container's `updraft tasks run …` becomes `true …`: the Pod succeeds at once.
  writeFileSync(images, JSON.stringify({ "bench:1": { commands: { updraft: ["true"] } } }));
  const child = spawn(
    process.execPath,
    [
      join(root, "scripts", "kube-sim.mjs"),
      "--kubeconfig",
      kubeconfig,
      "--images",
      images,
      "--start-delay-ms",
      "0",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d.toString();
      if (out.includes("kubeconfig written")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`kube-sim exited (${code}) before serving:\n${out}`)));
  });
  return { kubeconfig, stop: () => new Promise((r) => (child.once("exit", r), child.kill("SIGINT"))) };
}

function workload(run, i) {
  return {
    kind: "task",
    ti: { dag_id: "bench_k8s", task_id: `t${i}`, run_id: `run_${run}`, map_index: -1 },
    try_number: 1,
    fileloc: "/opt/updraft/dags/bench.ts",
    token: "bench-token",
    api_url: "http://127.0.0.1:1",
    log_path: "/tmp/bench.log",
    fresh_process: false,
    queue: "default",
    priority_weight: 1,
    execution_timeout_ms: null,
    executor_config: {
      podOverride: {
        spec: { containers: [{ name: "base", resources: { limits: { "nvidia.com/gpu": "1" } } }] },
      },
    },
  };
}

/** One run: N workloads queued at once; resolves with the per-Pod figures. */
async function oneRun(kubeconfig, run, pods, batch) {
  const ex = new KubernetesExecutor({
    image: "bench:1",
    owner: `bench-${run}`,
    target: { configFile: kubeconfig },
    parallelism: pods,
    creationBatchSize: batch,
    logger: quiet,
  });
  await ex.start();
  const s0 = ex.stats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ended = 0;
  let lost = 0;
  const done = new Promise((resolve) =>
    ex.onEvent((e) => {
      ended++;
      if (e.type === "lost") lost++;
      if (ended === pods) resolve();
    }),
  );
  for (let i = 0; i < pods; i++) ex.queueWorkload(workload(run, i));
  await done;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const s = ex.stats();
  await ex.stop({ timeoutMs: 5000 });
  if (lost > 0)
    throw new Error(`${lost} of ${pods} Pods were lost: the benchmark measures successful Pods only`);
  return {
    own_ms: (s.ownMs - s0.ownMs) / pods,
    api_wait_ms: (s.apiWaitMs - s0.apiWaitMs) / pods,
    api_calls: (s.apiCalls - s0.apiCalls) / pods,
    cpu_ms: (cpu.user + cpu.system) / 1000 / pods,
    wall_ms: wallMs / pods,
  };
}

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: {
      pods: { type: "string", default: "50" },
      runs: { type: "string", default: "5" },
      batch: { type: "string", default: "4" },
    },
  });
  const pods = Number(values.pods);
  const runs = Number(values.runs);
  const batch = Number(values.batch);
  const dir = mkdtempSync(join(tmpdir(), "updraft-bench-k8s-"));
  const sim = await startSim(dir);
  try {
    await oneRun(sim.kubeconfig, "warmup", Math.min(pods, 10), batch); // JIT, client loading
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await oneRun(sim.kubeconfig, r, pods, batch));
    const m = (k) => +median(results.map((x) => x[k])).toFixed(3);
    const result = {
      workload: "kubernetes",
      pods,
      runs,
      creation_batch_size: batch,
      executor_own_ms_per_pod: m("own_ms"),
      api_wait_ms_per_pod: m("api_wait_ms"),
      api_calls_per_pod: m("api_calls"),
      process_cpu_ms_per_pod: m("cpu_ms"),
      wall_ms_per_pod: m("wall_ms"),
    };
    console.log(JSON.stringify(result));
    console.log(
      `KubernetesExecutor per Pod (median of ${runs} runs of ${pods} Pods, ${batch} creates at once): ` +
        `${result.executor_own_ms_per_pod} ms in the executor's own code (Pod building, watch events) vs ` +
        `${result.api_wait_ms_per_pod} ms waiting on ${result.api_calls_per_pod} API calls; ` +
        `process CPU ${result.process_cpu_ms_per_pod} ms (executor + client library); wall ${result.wall_ms_per_pod} ms from queue to end`,
    );
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
