// The KubernetesExecutor against the Kubernetes API simulator, through the official client: Pods
// whose base container is a shell command (the image maps `updraft` to `sh -c …`), so that these
// tests look at the executor alone: 409 taken as "already there", the watch through disconnects
// and 410 Gone, API errors and timeouts, faults mapped to reasons, pending timeouts, adoption,
// and the token kept out of the Pod.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { KubernetesExecutor, type KubernetesExecutorOptions } from "../../src/executors/index.js";
import type { ExecutorEvent } from "../../src/executors/index.js";
import type { TaskWorkload } from "../../src/model/execution-api.js";
import { startKubeSim, type KubeSim } from "../kube-sim/index.js";
import { eventually } from "../e2e/helpers.js";

let sim: KubeSim;
const executors: KubernetesExecutor[] = [];
const TOKEN = "tok-7c1b0e-NEVER-IN-A-POD";

beforeAll(async () => {
  sim = await startKubeSim({
    startDelayMs: 20,
    retryMs: 200,
    images: {
      // What the base container's `updraft tasks run …` becomes: `sh -c SCRIPT tasks run …`.
      "ok:1": { commands: { updraft: ["sh", "-c", "echo task ran; sleep 0.3"] } },
      "slow:1": { commands: { updraft: ["sh", "-c", "sleep 2"] } },
      "fail:1": { commands: { updraft: ["sh", "-c", "echo boom >&2; exit 1"] } },
    },
  });
});

afterEach(async () => {
  for (const e of executors.splice(0)) await e.stop({ timeoutMs: 2000 });
});

afterAll(async () => {
  // Every object the executor sent was valid: the API server dropped no unknown field.
  const warnings = sim?.warnings() ?? [];
  await sim?.close();
  expect(warnings).toEqual([]);
});

let n = 0;
function workload(over: Partial<TaskWorkload> = {}): TaskWorkload {
  n++;
  return {
    kind: "task",
    ti: { dag_id: "exec_api", task_id: `t${n}`, run_id: "manual__1", map_index: -1 },
    try_number: 1,
    fileloc: "/dags/x.ts",
    token: TOKEN,
    api_url: "http://127.0.0.1:1",
    log_path: "/tmp/none.log",
    fresh_process: false,
    queue: "default",
    priority_weight: 1,
    execution_timeout_ms: null,
    ...over,
  };
}

/** An executor on the simulator; `owner: ""` leaves the owner to a later `adopt`. */
function executor(over: Partial<KubernetesExecutorOptions> = {}): {
  ex: KubernetesExecutor;
  events: ExecutorEvent[];
} {
  const { owner = "1", ...rest } = over;
  const ex = new KubernetesExecutor({
    image: "ok:1",
    ...(owner === "" ? {} : { owner }),
    target: { configFile: sim.kubeconfigPath },
    pendingCheckIntervalS: 0.2,
    requestTimeoutMs: 2000,
    logger: process.env["KEXEC_DEBUG"]
      ? {
          debug: () => undefined,
          info: (o, m) => console.log("INFO", m, o),
          warn: (o, m) => console.log("WARN", m, o),
          error: (o, m) => console.log("ERROR", m, o),
        }
      : { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    ...rest,
  });
  const events: ExecutorEvent[] = [];
  ex.onEvent((e) => events.push(e));
  executors.push(ex);
  return { ex, events };
}

const endOf = (events: ExecutorEvent[], w: TaskWorkload) =>
  events.filter((e) => e.ti.task_id === w.ti.task_id && e.try_number === w.try_number);

async function ended(events: ExecutorEvent[], w: TaskWorkload, timeoutMs = 20_000): Promise<ExecutorEvent> {
  return eventually(() => endOf(events, w)[0], timeoutMs, `the end of ${w.ti.task_id}`);
}

function podsOf(w: TaskWorkload) {
  return sim.pods("default").filter((p) => p.metadata.annotations?.["task_id"] === w.ti.task_id);
}

/** Pod creates answered since `mark` (an index into sim.requests()); the tests create one Pod at a time there. */
function podCreatesSince(mark: number) {
  return sim
    .requests()
    .slice(mark)
    .filter((r) => r.method === "POST" && /\/pods$/.test(r.path));
}

describe("KubernetesExecutor against the simulator", () => {
  test("a Pod per workload: finished, deleted, its Secret owned by it, the token only in the Secret", async () => {
    const { ex, events } = executor();
    await ex.start();
    const w = workload();
    ex.queueWorkload(w);
    const pod = await eventually(() => podsOf(w)[0], 10_000, "the Pod");
    expect(pod.metadata.name).toMatch(/^exec-api-t\d+-[0-9a-f]{10}$/);
    expect(pod.metadata.labels).toMatchObject({
      kubernetes_executor: "True",
      "updraft-worker": "1",
      dag_id: "exec_api",
    });
    expect(JSON.stringify(pod)).not.toContain(TOKEN);
    const secrets = sim
      .objects("secrets", "default")
      .filter((s) => s.metadata.name.startsWith(pod.metadata.name));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Pod", uid: pod.metadata.uid });
    expect(await ended(events, w)).toMatchObject({ type: "finished", kind: "task" });
    // Deleted after success, and its Secret with it.
    await eventually(() => (podsOf(w).length === 0 ? true : undefined), 10_000, "the Pod's deletion");
    await eventually(
      () =>
        sim.objects("secrets", "default").some((s) => s.metadata.name.startsWith(pod.metadata.name))
          ? undefined
          : true,
      10_000,
      "the Secret's garbage collection",
    );
    expect(endOf(events, w)).toHaveLength(1);
  });

  test("a failed Pod is lost with its exit code and kept (labelled done) when delete_worker_pods_on_failure is false", async () => {
    const { ex, events } = executor({ image: "fail:1" });
    const w = workload();
    ex.queueWorkload(w);
    const e = await ended(events, w);
    expect(e).toMatchObject({ type: "lost" });
    expect(e.type === "lost" && e.reason).toMatch(/failed: container base exited with code 1/);
    await eventually(
      () => (podsOf(w)[0]?.metadata.labels?.["updraft_executor_done"] === "True" ? true : undefined),
      10_000,
      "the done label",
    );
  });

  test("a repeated create meets 409 and takes the Pod that is there: one Pod, one end", async () => {
    const mark = sim.requests().length;
    const first = executor({ image: "slow:1", owner: "10" });
    const w = workload();
    first.ex.queueWorkload(w);
    await eventually(() => podsOf(w)[0], 10_000, "the first Pod");
    await first.ex.stop({ timeoutMs: 2000 });
    // Another scheduler queues the same try again (its first scheduler died before it started).
    const second = executor({ image: "slow:1", owner: "11" });
    second.ex.queueWorkload(w);
    expect(await ended(second.events, w)).toMatchObject({ type: "finished" });
    expect(podCreatesSince(mark).map((r) => r.status)).toEqual([201, 409]);
    expect(endOf(second.events, w)).toHaveLength(1);
    expect(first.events).toHaveLength(0);
  });

  test("an ended leftover of the same try is replaced, not taken", async () => {
    const mark = sim.requests().length;
    const first = executor({ owner: "20", deleteWorkerPods: false });
    const w = workload();
    first.ex.queueWorkload(w);
    await ended(first.events, w);
    await first.ex.stop({ timeoutMs: 2000 });
    const second = executor({ owner: "21" });
    second.ex.queueWorkload(w);
    expect(await ended(second.events, w)).toMatchObject({ type: "finished" });
    expect(podCreatesSince(mark).map((r) => r.status)).toEqual([201, 409, 201]);
  });

  test("the watch resumes after a disconnect and lists again after 410 Gone (a compacted history)", async () => {
    const { ex, events } = executor({ image: "slow:1", watchConnectTimeoutMs: 8000 });
    await ex.start();
    const ws = [workload(), workload(), workload()];
    for (const w of ws) ex.queueWorkload(w);
    await eventually(() => (ws.every((w) => podsOf(w).length === 1) ? true : undefined), 10_000, "the Pods");
    const before = { ...ex.stats().watch! };
    // The watch is cut and its next request hangs; meanwhile the Pods end and the history they
    // left is compacted: the resumed watch's version is too old (410), so the executor lists.
    sim.inject({ type: "ApiTimeout", method: "GET", path: /watch=true/, count: 1 });
    sim.inject({ type: "WatchDisconnect" });
    await eventually(
      () =>
        ws.every((w) => (podsOf(w)[0]?.["status"] as { phase?: string } | undefined)?.phase === "Succeeded")
          ? true
          : undefined,
      15_000,
      "the Pods' ends",
    );
    expect(ws.every((w) => endOf(events, w).length === 0)).toBe(true);
    sim.inject({ type: "CompactHistory" });
    for (const w of ws) expect(await ended(events, w)).toMatchObject({ type: "finished" });
    const after = ex.stats().watch!;
    expect(after.gone).toBe(before.gone + 1);
    expect(after.lists).toBe(before.lists + 1);
    expect(after.watches).toBeGreaterThanOrEqual(before.watches + 3);
    for (const w of ws) expect(endOf(events, w)).toHaveLength(1);
  });

  test("after a plain disconnect the watch resumes from its last version: no list, no lost event", async () => {
    const { ex, events } = executor({ image: "slow:1" });
    await ex.start();
    const w = workload();
    ex.queueWorkload(w);
    await eventually(() => podsOf(w)[0], 10_000, "the Pod");
    const before = { ...ex.stats().watch! };
    sim.inject({ type: "WatchDisconnect" });
    expect(await ended(events, w)).toMatchObject({ type: "finished" });
    const after = ex.stats().watch!;
    expect(after.lists).toBe(before.lists);
    expect(after.watches).toBeGreaterThan(before.watches);
    const resumed = sim
      .requests()
      .filter((r) => r.method === "GET" && /watch=true/.test(r.query))
      .at(-1);
    expect(resumed?.query).toMatch(/resourceVersion=\d+/);
  });

  test("API errors and timeouts on create are retried; a lasting error loses the try with the API's message", async () => {
    const { ex, events } = executor({ requestTimeoutMs: 500 });
    await ex.start();
    sim.inject({ type: "ApiError", method: "POST", path: /\/pods$/, count: 2, status: 503 });
    sim.inject({ type: "ApiTimeout", method: "POST", path: /\/pods$/, count: 1 });
    const mark = sim.requests().length;
    const w = workload();
    ex.queueWorkload(w);
    expect(await ended(events, w)).toMatchObject({ type: "finished" });
    // Two 503s, one request given up after its deadline, then the create: one Pod.
    const statuses = podCreatesSince(mark).map((r) => r.status);
    expect(statuses.slice(0, 2)).toEqual([503, 503]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);

    // As many errors as attempts: the try is lost (and no error is left for the next test).
    sim.inject({ type: "ApiError", method: "POST", path: /\/pods$/, count: 5, status: 500 });
    const w2 = workload();
    ex.queueWorkload(w2);
    const e = await ended(events, w2);
    expect(e.type === "lost" && e.reason).toMatch(/did not create worker Pod .*HTTP 500 after 5 attempts/);
  });

  test("429 Too Many Requests: the create waits as long as Retry-After says, then succeeds", async () => {
    const { ex, events } = executor();
    await ex.start();
    sim.inject({ type: "ApiError", method: "POST", path: /\/pods$/, count: 2, status: 429 });
    const w = workload();
    const t0 = Date.now();
    ex.queueWorkload(w);
    expect(await ended(events, w)).toMatchObject({ type: "finished" });
    // Two answers with Retry-After: 1 (our own backoff would have waited 0.2 + 0.4 s).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  test("image pull failure, OOM kill and eviction each lose the try with their reason", async () => {
    const { ex, events } = executor({ image: "slow:1", deleteWorkerPodsOnFailure: true });
    const pull = workload({
      executor_config: {
        podOverride: { spec: { containers: [{ name: "base", image: "no-such-image:1" }] } },
      },
    });
    const oom = workload();
    const evicted = workload();
    sim.inject({ type: "OOMKilled", labelSelector: `task_id=${oom.ti.task_id}`, afterMs: 200 });
    sim.inject({ type: "Evicted", labelSelector: `task_id=${evicted.ti.task_id}`, afterMs: 200 });
    for (const w of [pull, oom, evicted]) ex.queueWorkload(w);
    const reasons = await Promise.all(
      [pull, oom, evicted].map(async (w) => {
        const e = await ended(events, w);
        return e.type === "lost" ? e.reason : `finished ${w.ti.task_id}`;
      }),
    );
    expect(reasons[0]).toMatch(/(ErrImagePull|ImagePullBackOff): container base \(image no-such-image:1\)/);
    expect(reasons[1]).toMatch(/OOMKilled: container base ran out of memory/);
    expect(reasons[2]).toMatch(/Evicted/);
    // Deleted (delete_worker_pods_on_failure): a Pod that cannot pull its image included.
    await eventually(
      () => ([pull, oom, evicted].every((w) => podsOf(w).length === 0) ? true : undefined),
      10_000,
      "deletions",
    );
  });

  test("a Pod pending past worker_pods_pending_timeout is deleted and lost with the scheduler's message", async () => {
    const { ex, events } = executor({ pendingTimeoutS: 1, deleteWorkerPods: false });
    const w = workload();
    const remove = sim.inject({
      type: "Unschedulable",
      labelSelector: `task_id=${w.ti.task_id}`,
      message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
    });
    try {
      ex.queueWorkload(w);
      const e = await ended(events, w);
      expect(e.type === "lost" && e.reason).toMatch(
        /stayed Pending for over 1 s \(kubernetes_executor.worker_pods_pending_timeout\); Unschedulable: 0\/1 nodes are available/,
      );
      // Deleted even though delete_worker_pods is false: it would hold its place forever.
      await eventually(() => (podsOf(w).length === 0 ? true : undefined), 10_000, "the Pod's deletion");
    } finally {
      remove();
    }
  });

  test("the Pods of a gone scheduler are adopted, relabelled and reported by the adopter", async () => {
    const first = executor({ image: "slow:1", owner: "30" });
    const w = workload();
    first.ex.queueWorkload(w);
    await eventually(() => podsOf(w)[0], 10_000, "the Pod");
    await first.ex.stop({ timeoutMs: 2000 });
    const second = executor({ image: "slow:1", owner: "" });
    const asked: string[][] = [];
    const adopted = await second.ex.adopt("31", (owners) => {
      asked.push(owners);
      return Promise.resolve(owners.filter((o) => o === "30"));
    });
    expect(adopted).toBe(1);
    expect(asked[0]).toContain("30");
    expect(podsOf(w)[0]?.metadata.labels?.["updraft-worker"]).toBe("31");
    expect(await ended(second.events, w)).toMatchObject({ type: "finished" });
    // A live scheduler's Pods are left alone.
    const third = executor({ image: "slow:1", owner: "40" });
    const w2 = workload();
    third.ex.queueWorkload(w2);
    await eventually(() => podsOf(w2)[0], 10_000, "the live scheduler's Pod");
    expect(await second.ex.adopt("31", () => Promise.resolve([]))).toBe(0);
    expect(podsOf(w2)[0]?.metadata.labels?.["updraft-worker"]).toBe("40");
    expect(await ended(third.events, w2)).toMatchObject({ type: "finished" });
  });
  test("a token Secret that no Pod owns, left by a gone scheduler, is deleted at adoption", async () => {
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const labels = { kubernetes_executor: "True", "updraft-worker": "50" };
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "orphan-token-1", labels }, stringData: { token: TOKEN } },
    });
    await core.createNamespacedSecret({
      namespace: "default",
      body: {
        metadata: { name: "live-token-1", labels: { ...labels, "updraft-worker": "52" } },
        stringData: { token: TOKEN },
      },
    });
    const { ex } = executor({ owner: "" });
    await ex.adopt("51", (owners) => Promise.resolve(owners.filter((o) => o === "50")));
    const names = sim.objects("secrets", "default").map((x) => x.metadata.name);
    expect(names).not.toContain("orphan-token-1");
    expect(names).toContain("live-token-1");
  });
  test("pod templates: a task's own podTemplateFile; a broken pod_template_file stops start() with its name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kexec-templates-"));
    try {
      const own = join(dir, "gpu-template.yaml");
      writeFileSync(
        own,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    pool: gpu\nspec:\n  containers:\n    - name: base\n      command: [updraft]\n",
      );
      const { ex, events } = executor();
      const w = workload({ executor_config: { podTemplateFile: own } });
      ex.queueWorkload(w);
      const pod = await eventually(() => podsOf(w)[0], 10_000, "the Pod");
      expect(pod.metadata.labels?.["pool"]).toBe("gpu");
      expect(await ended(events, w)).toMatchObject({ type: "finished" });

      const broken = join(dir, "broken.yaml");
      writeFileSync(broken, "kind: Deployment\n");
      const bad = new KubernetesExecutor({
        image: "ok:1",
        podTemplateFile: broken,
        target: { configFile: sim.kubeconfigPath },
      });
      await expect(bad.start()).rejects.toThrow(
        /broken\.yaml \(kubernetes_executor\.pod_template_file\) is not a Pod/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
