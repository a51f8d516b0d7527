// DAG options as the REST API shows them: isPausedUponCreation, docMd of the DAG and its tasks,
// the scheduler-side options, and why a task instance waits.
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { serializeDag } from "../../src/model/serialize-dag.js";
import { dag, task, type Dag } from "../../src/sdk/index.js";
import { syncDagBag, triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, startTestServer, type TestServer } from "./helpers.js";

const noop = (): undefined => undefined;

function sync(d: Dag) {
  return {
    upsertedDags: [serializeDag(d, `/dags/${d.dagId}.ts`, "None")],
    removedDagIds: [],
    importErrorChanges: [],
  } as const;
}

const documented = dag(
  {
    dagId: "documented",
    docMd: "# Sales\nLoads the **sales**.",
    failStop: true,
    maxConsecutiveFailedDagRuns: 3,
  },
  () => {
    task({ taskId: "extract", docMd: "Reads the *orders*.", dependsOnPast: true }, noop)().before(
      task({ taskId: "load", waitForDownstream: true, maxActiveTisPerDagrun: 2 }, noop)(),
    );
  },
);

withTestDatabases("DAG options in the REST API", (getDb) => {
  let t: TestServer;
  const get = (url: string) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${API_TOKEN}` } });
  beforeAll(async () => {
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });

  // airflow/models/dag.py DAG(is_paused_upon_creation=...): the DAG's own choice wins over
  // core.dags_are_paused_at_creation, and only when the DAG is first seen.
  it("starts a new DAG paused or not as isPausedUponCreation says, only at creation", async () => {
    const db = getDb().db;
    const cases = [
      [dag({ dagId: "upon_false", isPausedUponCreation: false }, () => void task("t", noop)()), true, false],
      [dag({ dagId: "upon_true", isPausedUponCreation: true }, () => void task("t", noop)()), false, true],
      [dag({ dagId: "upon_default_on" }, () => void task("t", noop)()), true, true],
      [dag({ dagId: "upon_default_off" }, () => void task("t", noop)()), false, false],
    ] as const;
    for (const [d, pausedAtCreation, expected] of cases) {
      await syncDagBag(db, sync(d), { pausedAtCreation });
      const res = await get(`/api/v1/dags/${d.dagId}`);
      expect(res.json().is_paused, d.dagId).toBe(expected);
      const details = await get(`/api/v1/dags/${d.dagId}/details`);
      expect(details.json().is_paused_upon_creation).toBe(d.options.isPausedUponCreation ?? null);
    }
    // Unpaused by hand, it stays unpaused when the file is processed again.
    const patched = await t.server.app.inject({
      method: "PATCH",
      url: "/api/v1/dags/upon_true",
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { is_paused: false },
    });
    expect(patched.json().is_paused).toBe(false);
    const again = dag(
      { dagId: "upon_true", isPausedUponCreation: true, description: "v2" },
      () => void task("t", noop)(),
    );
    await syncDagBag(db, sync(again), { pausedAtCreation: true });
    expect((await get("/api/v1/dags/upon_true")).json().is_paused).toBe(false);
  });

  // airflow/api_connexion/schemas/dag_schema.py DAGDetailSchema: doc_md of the DAG; task_schema:
  // doc_md and the scheduling options of each task.
  it("shows the docMd of the DAG and of its tasks, and the scheduler-side options", async () => {
    await syncDagBag(getDb().db, sync(documented), { pausedAtCreation: false });
    const details = (await get("/api/v1/dags/documented/details")).json();
    expect(details.doc_md).toBe("# Sales\nLoads the **sales**.");
    expect(details.fail_stop).toBe(true);
    expect(details.max_consecutive_failed_dag_runs).toBe(3);
    const byId = Object.fromEntries(
      (details.tasks as { task_id: string }[]).map((x) => [x.task_id, x as Record<string, unknown>]),
    );
    expect(byId["extract"]).toMatchObject({
      doc_md: "Reads the *orders*.",
      depends_on_past: true,
      wait_for_downstream: false,
      ignore_first_depends_on_past: true,
    });
    expect(byId["load"]).toMatchObject({
      doc_md: null,
      depends_on_past: true, // wait_for_downstream implies it
      wait_for_downstream: true,
      max_active_tis_per_dagrun: 2,
    });
  });

  it("shows why a task instance waits (wait_reason) in the task instance JSON", async () => {
    const db = getDb().db;
    await syncDagBag(db, sync(documented), { pausedAtCreation: false });
    await triggerDagRun(db, {
      dagId: "documented",
      runId: "w1",
      logicalDate: new Date(Date.UTC(2024, 0, 2)),
    });
    const reason = "Previous Dagrun State: dependsOnPast is set for this task, but …";
    await sql`update task_instance set wait_reason = ${reason}
      where dag_id = 'documented' and run_id = 'w1' and task_id = 'extract'`.execute(db);
    const tis = (await get("/api/v1/dags/documented/dagRuns/w1/taskInstances")).json().task_instances as {
      task_id: string;
      wait_reason: string | null;
    }[];
    expect(Object.fromEntries(tis.map((x) => [x.task_id, x.wait_reason]))).toEqual({
      extract: reason,
      load: null,
    });
  });
});
