// Each injected fault ends in the right task state with its reason in the try's log and the task
// instance's note: an image that cannot be pulled (a podOverride image), an OOM kill, an eviction
// and a Pod that cannot be scheduled (failed after worker_pods_pending_timeout), while a healthy
// task of the same run succeeds. The tries fail through the normal retries (retries: 0 here, and
// one task with a retry that succeeds on its second Pod).
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import { describeWithPostgres } from "../reliability/harness.js";
import { startKubeCluster, type KubeCluster } from "./executor-cluster.js";

const DAG = "k8s_faults";
const SOURCE = `
import { dag, task } from "updraft";
const work = async () => {
  console.log("working");
  await new Promise((r) => setTimeout(r, 10000));
};
export default dag({ dagId: "${DAG}", schedule: null, startDate: "2026-01-01", defaultArgs: { retries: 0 } }, () => {
  task(
    {
      taskId: "pull",
      executorConfig: { podOverride: { spec: { containers: [{ name: "base", image: "registry.example/no-such-image:1" }] } } },
      // Callbacks run in Pods too (with the executor's image, not the task's override).
      onFailureCallback: (ctx) => console.log("on_failure callback ran for " + ctx.ti.task_id),
    },
    work,
  )();
  task("oom", work)();
  task("evicted", work)();
  task("unschedulable", work)();
  task("healthy", () => console.log("healthy ran"))();
  task({ taskId: "second_chance", retries: 1, retryDelay: "1s" }, async (ctx) => {
    console.log("try " + ctx.ti.try_number);
    await new Promise((r) => setTimeout(r, ctx.ti.try_number === 1 ? 10000 : 100));
  })();
});
`;

await describeWithPostgres("KubernetesExecutor: faults end in the right state, with their reason", () => {
  let kc: KubeCluster;

  beforeAll(async () => {
    kc = await startKubeCluster();
    kc.cluster.writeDag(`${DAG}.ts`, SOURCE);
    kc.cluster.reserialize();
    kc.sim.inject({
      type: "Unschedulable",
      labelSelector: "task_id=unschedulable",
      message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
    });
    await kc.start({
      UPDRAFT__KUBERNETES_EXECUTOR__WORKER_PODS_PENDING_TIMEOUT: "4",
      UPDRAFT__KUBERNETES_EXECUTOR__WORKER_PODS_PENDING_TIMEOUT_CHECK_INTERVAL: "1",
      UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS_ON_FAILURE: "True",
    });
  }, 120_000);

  afterAll(async () => {
    await kc?.close();
  });

  test("failed with the reason in log and note; retries go on; the healthy task succeeds", async () => {
    kc.cluster.trigger(DAG, "faults_1");
    // Once their tries run (the runner in the Pod has started them), the node kills or evicts
    // them; the first try of second_chance too (its retry, try_number=2, runs clean).
    await eventually(
      async () => {
        const running = await kc.cluster.query<{ task_id: string }>(
          "select task_id from task_instance where dag_id = $1 and state = 'running'",
          [DAG],
        );
        const ids = new Set(running.map((r) => r.task_id));
        return ["oom", "evicted", "second_chance"].every((t) => ids.has(t)) ? true : undefined;
      },
      90_000,
      `oom, evicted and second_chance running\n${kc.cluster.logs()}`,
    );
    kc.sim.inject({
      type: "OOMKilled",
      labelSelector: "task_id in (oom,second_chance),try_number=1",
      afterMs: 200,
    });
    kc.sim.inject({
      type: "Evicted",
      labelSelector: "task_id=evicted",
      afterMs: 200,
      message: "The node was low on resource: memory.",
    });
    expect(await kc.runEnd(DAG, "faults_1", 150_000)).toBe("failed");
    const rows = await kc.cluster.query<{
      task_id: string;
      state: string;
      try_number: number;
      note: string | null;
    }>("select task_id, state, try_number, note from task_instance where dag_id = $1 order by task_id", [
      DAG,
    ]);
    const by = new Map(rows.map((r) => [r.task_id, r]));
    const expected: [string, RegExp][] = [
      [
        "pull",
        /(ErrImagePull|ImagePullBackOff): container base \(image registry\.example\/no-such-image:1\) cannot start/,
      ],
      ["oom", /OOMKilled: container base ran out of memory and was killed \(exit code 137\)/],
      ["evicted", /Evicted: the node evicted the Pod: The node was low on resource: memory\./],
      [
        "unschedulable",
        /stayed Pending for over 4 s \(kubernetes_executor\.worker_pods_pending_timeout\); Unschedulable: 0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\./,
      ],
    ];
    for (const [taskId, reason] of expected) {
      const ti = by.get(taskId);
      expect(ti?.state, `${taskId}\n${kc.cluster.logs()}`).toBe("failed");
      expect(ti?.note, taskId).toMatch(
        new RegExp(`^Try 1: The task's runner was lost: Pod [a-z0-9-]+ .*${reason.source}`),
      );
      const log = kc.log(DAG, "faults_1", taskId, 1);
      expect(log, taskId).toMatch(reason);
      expect(log, taskId).toMatch(/ERROR \[scheduler\] The task's runner was lost: .* The task is failed\./);
    }
    // The failure callback ran in a Pod of its own and logged into the try's log.
    await eventually(
      () =>
        kc.log(DAG, "faults_1", "pull", 1).includes("on_failure callback ran for pull") ? true : undefined,
      60_000,
      `the on_failure callback of pull\n${kc.cluster.logs()}`,
    );
    // The OOM-killed try ran (its log has the task's line); the image never ran anything.
    expect(kc.log(DAG, "faults_1", "oom", 1)).toContain("working");
    expect(by.get("healthy")).toMatchObject({ state: "success", note: null });
    // A lost try is retried as any failed try: the second Pod (try 2) succeeds.
    const second = by.get("second_chance");
    expect(second).toMatchObject({ state: "success", try_number: 2 });
    expect(second?.note).toMatch(/^Try 1: The task's runner was lost: .*OOMKilled/);
    expect(kc.log(DAG, "faults_1", "second_chance", 1)).toMatch(/will be retried \(up_for_retry\)/);
    expect(kc.log(DAG, "faults_1", "second_chance", 2)).toContain("try 2");
    // Failed Pods deleted (delete_worker_pods_on_failure), the Pending one too.
    await eventually(() => (kc.pods(DAG).length === 0 ? true : undefined), 30_000, "every Pod's deletion");
  }, 180_000);
});
