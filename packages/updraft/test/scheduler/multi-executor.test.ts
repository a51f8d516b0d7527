// Several executors in one scheduler (decision 0027): slots are kept per executor in the one
// queuing transaction, so a full executor never holds back another's task instances (not even
// behind a claim batch full of its own backlog), core.parallelism caps the total, each workload
// goes to the executor its task names, lost tries are settled whichever executor reports them,
// and a task naming an executor the scheduler does not run stays scheduled with the reason shown.
// The executors are the scheduler tests' TestExecutor under the real names: a real executor's
// slots free up as its runners end, so "one is full at this pass" could not be held still; the
// end-to-end test (test/kubernetes/multi-executor.test.ts) runs the real LocalExecutor and
// KubernetesExecutor.
import { expect, it } from "vitest";
import { dependencyFacts } from "../../src/api/rest/dependency-facts.js";
import { ExecutorSet } from "../../src/executors/executor-set.js";
import { noopMetrics, type Metrics } from "../../src/metrics/index.js";
import { explainDependencies } from "../../src/model/explain-dependencies.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import type { Database } from "../../src/db/index.js";
import type { Workload } from "../../src/model/execution-api.js";
import { withTestDatabases } from "../db-testing.js";
import { newScheduler, runState, saveSdkDag, SECRET, testConfig, TestExecutor } from "./helpers.js";

const noop = (): undefined => undefined;
const HEAVY = 40; // more than one claim batch (32)

/** Many heavy tasks for the KubernetesExecutor, first in claim order, and a few light ones. */
function mixedDag(dagId: string, o: { heavy: number; light: number; lightFirst?: boolean }) {
  return dag({ dagId }, () => {
    for (let i = 0; i < o.heavy; i++)
      task(
        { taskId: `heavy_${i}`, executor: "KubernetesExecutor", priorityWeight: o.lightFirst ? 1 : 10 },
        noop,
      )();
    for (let i = 0; i < o.light; i++)
      task({ taskId: `light_${i}`, priorityWeight: o.lightFirst ? 10 : 1 }, noop)();
  });
}

class StatsExecutor extends TestExecutor {
  stats(): { queued: number; busy: number } {
    return { queued: this.pending.length, busy: this.running };
  }
}

function executors(database: Database, local: number, k8s: number, Cls = TestExecutor) {
  const l = new Cls(database, local, null, "LocalExecutor");
  const k = new Cls(database, k8s, null, "KubernetesExecutor");
  return { l, k, set: new ExecutorSet([l, k]) };
}

async function rows(database: Database, dagId: string) {
  return database.db
    .selectFrom("task_instance")
    .select(["task_id", "state", "executor", "try_number"])
    .where("dag_id", "=", dagId)
    .execute();
}

const taskIds = (ws: readonly Workload[]) => ws.map((w) => w.ti.task_id).sort();

withTestDatabases("several executors", (getDb) => {
  it("a full KubernetesExecutor never holds back LocalExecutor tasks, even behind its own backlog", async () => {
    const database = getDb();
    await saveSdkDag(database, mixedDag("k8s_full", { heavy: HEAVY, light: 3 }));
    const { l, k, set } = executors(database, 10, 1);
    const s = newScheduler(database, testConfig(), set);
    await triggerDagRun(database.db, { dagId: "k8s_full", runId: "r1" });
    await s.runOnce();
    // The heavy tasks come first in claim order and fill a whole batch: one fits, then the claim
    // goes on without them and finds the light ones.
    expect(k.pending).toHaveLength(1);
    expect(taskIds(k.pending)[0]).toMatch(/^heavy_/);
    expect(taskIds(l.pending)).toEqual(["light_0", "light_1", "light_2"]);
    const tis = await rows(database, "k8s_full");
    expect(
      tis.filter((t) => t.task_id.startsWith("heavy_")).every((t) => t.executor === "KubernetesExecutor"),
    ).toBe(true);
    expect(tis.filter((t) => t.task_id.startsWith("light_")).every((t) => t.executor === null)).toBe(true);
    expect(tis.filter((t) => t.state === "queued")).toHaveLength(4);

    // Still full: nothing more for it; the LocalExecutor's slots are its own.
    await s.runOnce();
    expect(k.pending).toHaveLength(1);
    await l.runAll();
    await s.runOnce();
    expect(k.pending).toHaveLength(1);
    // Each heavy task finishing lets exactly the next one in.
    for (let i = 0; i < HEAVY; i++) {
      expect(k.pending).toHaveLength(1);
      await k.runAll();
      await s.runOnce();
    }
    expect(await runState(database, { dagId: "k8s_full", runId: "r1" })).toBe("success");
    expect(k.all).toHaveLength(HEAVY);
    expect(l.all).toHaveLength(3);
  });

  it("a full LocalExecutor never holds back KubernetesExecutor tasks", async () => {
    const database = getDb();
    // Now the light tasks come first and fill the batch; the LocalExecutor has no slot at all.
    await saveSdkDag(database, mixedDag("local_full", { heavy: 2, light: HEAVY, lightFirst: true }));
    const { l, k, set } = executors(database, 0, 10);
    const s = newScheduler(database, testConfig(), set);
    await triggerDagRun(database.db, { dagId: "local_full", runId: "r1" });
    await s.runOnce();
    expect(l.pending).toHaveLength(0);
    expect(taskIds(k.pending)).toEqual(["heavy_0", "heavy_1"]);
    l.slots = 5;
    await s.runOnce();
    expect(l.pending).toHaveLength(5);
    expect(taskIds(l.pending).every((t) => t.startsWith("light_"))).toBe(true);
  });

  it("core.parallelism caps the total across executors", async () => {
    const database = getDb();
    await saveSdkDag(database, mixedDag("capped", { heavy: 4, light: 4 }));
    const { l, k, set } = executors(database, 10, 10, StatsExecutor);
    const s = newScheduler(database, testConfig({ "core.parallelism": 3 }), set);
    await triggerDagRun(database.db, { dagId: "capped", runId: "r1" });
    await s.runOnce();
    expect(l.pending.length + k.pending.length).toBe(3);
    await s.runOnce();
    expect(l.pending.length + k.pending.length).toBe(3);
    // A try ending frees one slot of the total, whichever executor ran it.
    await k.startAll();
    const [first] = await l.startAll();
    if (first !== undefined) await l.finish(first);
    await s.runOnce();
    expect(l.pending.length + k.pending.length + l.running + k.running).toBe(3);
  });

  it("settles a try lost by the executor that is not the default", async () => {
    const database = getDb();
    await saveSdkDag(
      database,
      dag({ dagId: "lost_k8s", defaultArgs: { retries: 1 } }, () => {
        task({ taskId: "heavy", executor: "KubernetesExecutor" }, noop)();
      }),
    );
    const { k, set } = executors(database, 10, 10);
    const s = newScheduler(database, testConfig(), set);
    await s.start();
    try {
      await triggerDagRun(database.db, { dagId: "lost_k8s", runId: "r1" });
      s.requestRun("lost_k8s", "r1");
      const deadline = Date.now() + 10_000;
      // (Earlier tests' queued task instances are adopted by this started scheduler too.)
      const mine = () => k.pending.some((p) => p.ti.dag_id === "lost_k8s");
      while (!mine() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const w = (await k.startAll()).find((p) => p.ti.dag_id === "lost_k8s");
      expect(w).toBeDefined();
      k.lose(w!, "the Pod was OOMKilled");
      let state: string | null = null;
      while (Date.now() < deadline) {
        state = (await rows(database, "lost_k8s"))[0]?.state ?? null;
        if (state !== "running") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // Retried (retries: 1), so up_for_retry, or already scheduled/queued for its next try.
      expect(["up_for_retry", "scheduled", "queued"]).toContain(state);
      const hist = await database.db
        .selectFrom("task_instance_history")
        .select(["try_number", "state"])
        .where("dag_id", "=", "lost_k8s")
        .execute();
      expect(hist).toEqual([{ try_number: 1, state: "up_for_retry" }]);
    } finally {
      await s.stop();
    }
  });

  it("never queues a task naming an executor it does not run, and explains why", async () => {
    const database = getDb();
    await saveSdkDag(database, mixedDag("unconfigured", { heavy: 1, light: 1 }));
    // core.executor changed after the parse: only the LocalExecutor now.
    const local = new TestExecutor(database, 10, null, "LocalExecutor");
    const s = newScheduler(database, testConfig(), local);
    await triggerDagRun(database.db, { dagId: "unconfigured", runId: "r1" });
    await s.runOnce();
    await local.runAll();
    await s.runOnce();
    // Only this DAG's: earlier tests of the file leave runs in the shared PostgreSQL database.
    expect(taskIds(local.all.filter((w) => w.ti.dag_id === "unconfigured"))).toEqual(["light_0"]);
    const tis = await rows(database, "unconfigured");
    expect(tis.find((t) => t.task_id === "heavy_0")).toMatchObject({ state: "scheduled", try_number: 0 });
    const { facts } = await dependencyFacts(
      database.db,
      { dagId: "unconfigured", runId: "r1", taskId: "heavy_0", mapIndex: -1 },
      16,
    );
    facts.executor = { name: "KubernetesExecutor", configured: ["LocalExecutor"] };
    const why = explainDependencies(facts);
    expect(why.dependencies).toEqual([
      {
        name: "Executor Configured",
        reason: expect.stringMatching(
          /names the executor "KubernetesExecutor", which core\.executor \(LocalExecutor\) does not list: the scheduler does not queue it/,
        ) as unknown as string,
      },
    ]);
  });

  it("emits each executor's slots under its name, and the totals", async () => {
    const database = getDb();
    const gauges = new Map<string, number>();
    const metrics: Metrics = {
      ...noopMetrics,
      enabled: true,
      gauge: (name, value, tags) => {
        if (tags === undefined) gauges.set(name, value);
      },
    };
    const { set } = executors(database, 4, 2, StatsExecutor);
    const s = new Scheduler({
      database,
      config: testConfig(),
      executors: set,
      apiUrl: "http://127.0.0.1:1",
      secretKey: SECRET,
      metrics,
    });
    await s.runOnce();
    expect(Object.fromEntries([...gauges].filter(([n]) => n.startsWith("executor.")))).toEqual({
      "executor.open_slots": 6,
      "executor.open_slots.LocalExecutor": 4,
      "executor.open_slots.KubernetesExecutor": 2,
      "executor.queued_tasks": 0,
      "executor.queued_tasks.LocalExecutor": 0,
      "executor.queued_tasks.KubernetesExecutor": 0,
      "executor.running_tasks": 0,
      "executor.running_tasks.LocalExecutor": 0,
      "executor.running_tasks.KubernetesExecutor": 0,
    });
  });
});
