// Several executors at once, end to end (issue 12, decision 0027): a real `updraft scheduler`
// with core.executor = LocalExecutor,KubernetesExecutor runs a DAG whose light tasks take the
// default (runner processes on this machine) and whose heavy task names the KubernetesExecutor
// (a Pod in the Kubernetes simulator, seen with the real kubectl). The run succeeds, XCom flows
// between the two, and each task ran where it should: task_instance.executor, the Pods, and the
// HOSTNAME each task saw (a Pod's name in a Pod). Pods stuck in Pending hold only Kubernetes
// slots: the local tasks beside them go on. (A KubernetesExecutor full to core.parallelism also
// fills the total, as in Airflow; the slot arithmetic with one executor full below it is in
// test/scheduler/multi-executor.test.ts.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import { describeWithPostgres } from "../reliability/harness.js";
import { startKubeCluster, type KubeCluster } from "./executor-cluster.js";

const BOTH = "LocalExecutor,KubernetesExecutor";

const MIXED = `
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dag, task } from "updraft";

// Where a task ran: the HOSTNAME it saw (a Pod's name in a Pod; the simulator sets it as Kubernetes does).
const where = (name: string): void =>
  writeFileSync(join(process.env.UPDRAFT_HOME ?? ".", "where-" + name), process.env.HOSTNAME ?? "-");

export default dag({ dagId: "mixed_executors", schedule: null, startDate: "2026-01-01" }, () => {
  const extract = task("extract", () => {
    where("extract");
    return [1, 2, 3, 4];
  });
  const train = task({ taskId: "train", executor: "KubernetesExecutor" }, (_c, xs: number[]) => {
    where("train");
    console.log("training on", xs.length, "rows");
    return xs.reduce((a, b) => a + b, 0);
  });
  const report = task("report", (_c, total: number) => {
    where("report");
    return "total " + total;
  });
  report(train(extract()));
});
`;

// Heavy tasks whose Pods cannot be scheduled (the simulator's Unschedulable fault) and a chain of
// light ones beside them.
const STALLED = `
import { dag, task } from "updraft";
export default dag({ dagId: "stalled_pods", schedule: null, startDate: "2026-01-01" }, () => {
  const h1 = task({ taskId: "heavy_1", executor: "KubernetesExecutor" }, () => 1);
  const h2 = task({ taskId: "heavy_2", executor: "KubernetesExecutor" }, () => 2);
  h1();
  h2();
  const a = task("light_a", () => "a");
  const b = task("light_b", (_c, x: string) => x + "b");
  const c = task("light_c", (_c, x: string) => x + "c");
  c(b(a()));
});
`;

await describeWithPostgres("several executors: LocalExecutor and KubernetesExecutor side by side", () => {
  let kc: KubeCluster;

  beforeAll(async () => {
    // The CLI's parse (dags reserialize) checks task executors against core.executor too.
    kc = await startKubeCluster({ UPDRAFT__CORE__EXECUTOR: BOTH });
    kc.cluster.writeDag("mixed_executors.ts", MIXED);
    kc.cluster.writeDag("stalled_pods.ts", STALLED);
    kc.cluster.reserialize();
    await kc.start({
      UPDRAFT__CORE__EXECUTOR: BOTH,
      UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS: "False",
    });
  }, 120_000);

  afterAll(async () => {
    await kc?.close();
  });

  test("light tasks run as local processes, the heavy one in a Pod; the run succeeds", async () => {
    kc.cluster.trigger("mixed_executors", "mixed_1");
    expect(await kc.runEnd("mixed_executors", "mixed_1")).toBe("success");

    const tis = await kc.cluster.query<{
      task_id: string;
      state: string;
      executor: string | null;
      try_number: number;
    }>(
      `select task_id, state, executor, try_number from task_instance
       where dag_id = 'mixed_executors' and run_id = 'mixed_1' order by task_id`,
    );
    expect(tis).toEqual([
      { task_id: "extract", state: "success", executor: null, try_number: 1 },
      { task_id: "report", state: "success", executor: null, try_number: 1 },
      { task_id: "train", state: "success", executor: "KubernetesExecutor", try_number: 1 },
    ]);
    // Its try's history row keeps the executor too.
    const hist = await kc.cluster.query<{ task_id: string; executor: string | null }>(
      `select task_id, executor from task_instance_history where dag_id = 'mixed_executors' order by task_id`,
    );
    expect(hist.find((h) => h.task_id === "train")?.executor ?? "KubernetesExecutor").toBe(
      "KubernetesExecutor",
    );

    // Exactly one Pod, for the heavy task; the light ones never went to Kubernetes.
    const pods = kc.pods("mixed_executors");
    expect(pods.map((p) => p.metadata.annotations?.["task_id"])).toEqual(["train"]);
    const creates = kc.sim.requests().filter((r) => r.method === "POST" && /\/pods$/.test(r.path));
    expect(creates.map((r) => r.status)).toEqual([201]);
    const get = await kc.kubectl(["get", "pods", "-l", "dag_id=mixed_executors", "-o", "name"]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout.trim()).toBe(`pod/${pods[0]!.metadata.name}`);
    const logs = await kc.kubectl(["logs", "-l", "dag_id=mixed_executors", "--tail=50"]);
    expect(logs.stdout).toContain("training on 4 rows");

    // Where each body ran: the Pod's name inside the Pod, this machine's environment elsewhere.
    const where = (t: string) => readFileSync(join(kc.cluster.home, `where-${t}`), "utf8");
    expect(where("train")).toBe(pods[0]!.metadata.name);
    expect(where("extract")).not.toBe(pods[0]!.metadata.name);
    expect(where("report")).toBe(where("extract"));
    // XCom crossed executors both ways.
    const xcom = await kc.cluster.query<{ task_id: string; value: unknown }>(
      `select task_id, value from xcom where dag_id = 'mixed_executors' and key = 'return_value' order by task_id`,
    );
    expect(xcom).toEqual([
      { task_id: "extract", value: [1, 2, 3, 4] },
      { task_id: "report", value: "total 10" },
      { task_id: "train", value: 10 },
    ]);
  }, 180_000);

  test("Pods stuck in Pending hold only the KubernetesExecutor's slots: the local tasks go on", async () => {
    const unschedulable = kc.sim.inject({ type: "Unschedulable", labelSelector: "dag_id=stalled_pods" });
    kc.cluster.trigger("stalled_pods", "stalled_1");
    const states = async () =>
      Object.fromEntries(
        (await kc.cluster.tis("stalled_pods", "stalled_1")).map((t) => [t.task_id, t.state]),
      );
    // The light chain ends while both heavy tasks wait for their Pods.
    await eventually(
      async () => ((await states())["light_c"] === "success" ? true : undefined),
      60_000,
      "the light tasks' success",
    );
    expect(await states()).toMatchObject({ heavy_1: "queued", heavy_2: "queued" });
    const pending = kc.pods("stalled_pods");
    expect(pending.map((p) => (p["status"] as { phase: string }).phase)).toEqual(["Pending", "Pending"]);
    unschedulable();
    expect(await kc.runEnd("stalled_pods", "stalled_1")).toBe("success");
    const tis = await kc.cluster.query<{ task_id: string; executor: string | null }>(
      `select task_id, executor from task_instance where dag_id = 'stalled_pods' order by task_id`,
    );
    expect(tis.map((t) => [t.task_id, t.executor])).toEqual([
      ["heavy_1", "KubernetesExecutor"],
      ["heavy_2", "KubernetesExecutor"],
      ["light_a", null],
      ["light_b", null],
      ["light_c", null],
    ]);
  }, 180_000);
});
