// Done-when of issue 10 for the KubernetesExecutor: a scheduler with the KubernetesExecutor against
// the simulator runs the tutorial's data_pipeline_lab with one Pod per task, labelled so that the
// real kubectl finds their logs by label; Pods are kept when delete_worker_pods is false, deleted
// after success by default, and kept after a failure (delete_worker_pods_on_failure = false). The
// watch goes on through a disconnect and a compacted history in the middle of the run.
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { EXAMPLES, eventually } from "../e2e/helpers.js";
import { describeWithPostgres, type Daemon } from "../reliability/harness.js";
import { startKubeCluster, stopGracefully, type KubeCluster } from "./executor-cluster.js";

const LAB = "data_pipeline_lab";
const TASKS = ["aggregate", "generate_data", "notify", "validate"];

const FAILING = `
import { dag, task } from "updraft";
export default dag({ dagId: "k8s_fails", schedule: null, startDate: "2026-01-01" }, () => {
  task("breaks", () => {
    console.log("about to break");
    throw new Error("this task breaks on purpose");
  })();
});
`;

await describeWithPostgres("KubernetesExecutor: the tutorial's lab", () => {
  let kc: KubeCluster;
  let scheduler: Daemon;

  beforeAll(async () => {
    kc = await startKubeCluster();
    copyFileSync(join(EXAMPLES, `${LAB}.ts`), join(kc.cluster.dagsFolder, `${LAB}.ts`));
    kc.cluster.writeDag("k8s_fails.ts", FAILING);
    kc.cluster.reserialize();
    ({ scheduler } = await kc.start({ UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS: "False" }));
  }, 120_000);

  afterAll(async () => {
    await kc?.close();
  });

  test("one Pod per task, labelled, logs by label with kubectl, kept with delete_worker_pods=False", async () => {
    kc.cluster.trigger(LAB, "lab_1");
    // Mid-run: the watch is cut and its history compacted; it must resume (410 → list again).
    await eventually(() => (kc.pods(LAB).length >= 1 ? true : undefined), 60_000, "the first Pod");
    kc.sim.inject({ type: "CompactHistory" });
    kc.sim.inject({ type: "WatchDisconnect" });
    expect(await kc.runEnd(LAB, "lab_1")).toBe("success");
    const tis = await kc.cluster.tis(LAB, "lab_1");
    expect(tis.map((t) => [t.task_id, t.state, t.try_number])).toEqual(TASKS.map((t) => [t, "success", 1]));

    // The executor labels a Pod done once it has read the Pod's end from the watch, which can come
    // just after the run's end (the runner's finish ends the run).
    const pods = await eventually(
      () => {
        const ps = kc.pods(LAB);
        return ps.length === 4 && ps.every((p) => p.metadata.labels?.["updraft_executor_done"] === "True")
          ? ps
          : undefined;
      },
      30_000,
      "every Pod labelled updraft_executor_done",
    );
    expect(pods).toHaveLength(4);
    const jobs = await kc.cluster.query<{ id: number }>(
      "select id from job where job_type = 'scheduler' and state = 'running'",
    );
    for (const p of pods) {
      const a = p.metadata.annotations ?? {};
      expect(p.metadata.name).toMatch(
        new RegExp(`^data-pipeline-lab-${a["task_id"]!.replace(/_/g, "-")}-[0-9a-f]{10}$`),
      );
      expect(p.metadata.labels).toMatchObject({
        kubernetes_executor: "True",
        dag_id: LAB,
        task_id: a["task_id"],
        try_number: "1",
        "updraft-worker": String(jobs[0]?.id),
        updraft_executor_done: "True",
        app: "updraft-worker",
      });
      expect(a["run_id"]).toBe("lab_1");
      expect((p["status"] as { phase: string }).phase).toBe("Succeeded");
    }

    const get = await kc.kubectl(["get", "pods", "-l", `dag_id=${LAB}`, "-o", "name"]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.trim().split("\n")).toHaveLength(4);
    const logs = await kc.kubectl(["logs", "-l", `dag_id=${LAB}`, "--tail=50"]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain("PIPELINE COMPLETE - NOTIFICATION");
    expect(logs.stdout).toContain("Generated 500 records");
    // The same lines in the try's log file, which the UI and the REST API serve.
    expect(kc.log(LAB, "lab_1", "notify", 1)).toContain("Notification sent successfully!");
    // The token is in no Pod: each reads it from its Secret, which the Pod owns.
    for (const p of pods) {
      const base = (
        p["spec"] as {
          containers: { name: string; env?: { name: string; value?: string; valueFrom?: unknown }[] }[];
        }
      ).containers.find((c) => c.name === "base");
      const tokenVar = base?.env?.find((e) => e.name === "UPDRAFT_EXECUTION_TOKEN");
      expect(tokenVar?.value).toBeUndefined();
      expect(tokenVar?.valueFrom).toBeDefined();
    }
    const secrets = kc.sim.objects("secrets", "default");
    for (const p of pods)
      expect(secrets.some((s) => s.metadata.ownerReferences?.some((o) => o.uid === p.metadata.uid))).toBe(
        true,
      );
    // Every object the executor sent was valid as sent: the API server dropped no unknown field.
    expect(kc.sim.warnings()).toEqual([]);
    // Every Pod was created once.
    const creates = kc.sim.requests().filter((r) => r.method === "POST" && /\/pods$/.test(r.path));
    expect(creates.map((r) => r.status)).toEqual([201, 201, 201, 201]);
  }, 180_000);

  test("by default Pods go after success; a failed task's Pod stays (delete_worker_pods_on_failure=false)", async () => {
    await stopGracefully(scheduler);
    scheduler = await kc.startScheduler();
    kc.cluster.trigger(LAB, "lab_2");
    kc.cluster.trigger("k8s_fails", "fails_1");
    expect(await kc.runEnd(LAB, "lab_2")).toBe("success");
    expect(await kc.runEnd("k8s_fails", "fails_1")).toBe("failed");
    await eventually(
      () =>
        kc.pods(LAB).filter((p) => p.metadata.annotations?.["run_id"] === "lab_2").length === 0
          ? true
          : undefined,
      30_000,
      "the deletion of lab_2's Pods",
    );
    const failed = await eventually(() => kc.pods("k8s_fails")[0], 30_000, "the failed task's Pod");
    expect((failed["status"] as { phase: string }).phase).toBe("Failed");
    await eventually(
      () =>
        kc.pods("k8s_fails")[0]?.metadata.labels?.["updraft_executor_done"] === "True" ? true : undefined,
      30_000,
      "the failed Pod labelled done",
    );
    const logs = await kc.kubectl(["logs", "-l", "dag_id=k8s_fails", "--tail=50"]);
    expect(logs.stdout).toContain("this task breaks on purpose");
    // The task failed by itself (its runner reported it): no lost-runner note.
    const [ti] = await kc.cluster.query<{ state: string; note: string | null }>(
      "select state, note from task_instance where dag_id = 'k8s_fails'",
    );
    expect(ti).toEqual({ state: "failed", note: null });
  }, 180_000);
});
