// GET …/taskInstances/{task_id}[/{map_index}]/dependencies: every condition that keeps a task
// instance from running, in words, with Airflow's dependency names, on serialized DAGs and task
// instance states written as the scheduler would leave them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPool, type Database } from "../../src/db/index.js";
import type { SerializedDag } from "../../src/model/serialized-dag.js";
import type { DagRunState, TaskInstanceState } from "../../src/model/states.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  startTestServer,
  type TaskSpec,
  type TestServer,
} from "./helpers.js";

const runId = (day: number) => `manual__2024-05-0${day}T00:00:00+00:00`;
const base = (dagId: string, run: string, taskId: string) =>
  `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(run)}/taskInstances/${taskId}`;

withTestDatabases("task instance dependencies", (getDb) => {
  let t: TestServer;
  let database: Database;
  beforeAll(async () => {
    database = getDb();
    t = await startTestServer(database, { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });

  const get = (url: string) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${API_TOKEN}` } });
  const deps = async (dagId: string, run: string, taskId: string, mapIndex?: number) => {
    const res = await get(
      `${base(dagId, run, taskId)}${mapIndex === undefined ? "" : `/${mapIndex}`}/dependencies`,
    );
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as {
      dependencies: { name: string; reason: string }[];
      state: TaskInstanceState | null;
      wait_reason: string | null;
      message: string;
    };
  };

  async function dagWith(dagId: string, specs: TaskSpec[], extra: Partial<SerializedDag> = {}) {
    await saveTestDag(database, makeDag(dagId, specs, extra));
  }
  /** A run on 2024-05-0<day>, in `state` (triggered runs start queued). */
  async function run(dagId: string, day: number, state: DagRunState = "running"): Promise<string> {
    const id = runId(day);
    await triggerDagRun(
      database.db,
      { dagId, runId: id, logicalDate: `2024-05-0${day}T00:00:00Z` },
      { events: null, defaultTimezone: "UTC" },
    );
    await database.db
      .updateTable("dag_run")
      .set({ state })
      .where("dag_id", "=", dagId)
      .where("run_id", "=", id)
      .execute();
    return id;
  }
  async function setTi(
    dagId: string,
    run: string,
    taskId: string,
    values: {
      state: TaskInstanceState | null;
      next_retry_at?: Date;
      try_number?: number;
      wait_reason?: string;
    },
  ) {
    await database.db
      .updateTable("task_instance")
      .set(values)
      .where("dag_id", "=", dagId)
      .where("run_id", "=", run)
      .where("task_id", "=", taskId)
      .execute();
  }

  it("names the upstream tasks a trigger rule waits for, with their states", async () => {
    await dagWith("d_up", [
      { id: "extract" },
      { id: "clean" },
      { id: "load", upstream: ["extract", "clean"] },
    ]);
    const r = await run("d_up", 1);
    await setTi("d_up", r, "extract", { state: "running" });
    await setTi("d_up", r, "clean", { state: "success" });
    const out = await deps("d_up", r, "load");
    expect(out.state).toBeNull();
    expect(out.dependencies).toEqual([
      {
        name: "Trigger Rule",
        reason: expect.stringContaining(
          'trigger rule "all_success": needs every upstream to succeed; 1 did not',
        ),
      },
    ]);
    expect(out.dependencies[0]?.reason).toContain("Upstream: clean=success, extract=running.");
    // Once the upstream failed, the rule can never be met: the scheduler's next step is said.
    await setTi("d_up", r, "extract", { state: "failed" });
    expect((await deps("d_up", r, "load")).dependencies[0]?.reason).toContain(
      "the scheduler sets this instance to upstream_failed",
    );
    // All upstreams done: nothing holds it back.
    await setTi("d_up", r, "extract", { state: "success" });
    const met = await deps("d_up", r, "load");
    expect(met.dependencies).toEqual([]);
    expect(met.message).toContain("All dependencies are met");
  });

  it("says a scheduled instance's pool is full, with its numbers, or missing", async () => {
    await setPool(database.db, { pool: "tiny", slots: 1 });
    await dagWith("d_pool", [
      { id: "hog", task: { pool: "tiny" } },
      { id: "t", task: { pool: "tiny" } },
      { id: "lost", task: { pool: "no_such_pool" } },
    ]);
    const r = await run("d_pool", 1);
    await setTi("d_pool", r, "hog", { state: "running" });
    await setTi("d_pool", r, "t", { state: "scheduled" });
    await setTi("d_pool", r, "lost", { state: "scheduled" });
    expect((await deps("d_pool", r, "t")).dependencies).toEqual([
      {
        name: "Pool Slots Available",
        reason: "Pool 'tiny' has 0 open slot(s) of 1 (1 running, 0 queued) and this task needs 1.",
      },
    ]);
    expect((await deps("d_pool", r, "lost")).dependencies).toEqual([
      { name: "Pool Slots Available", reason: expect.stringContaining("Pool 'no_such_pool' does not exist") },
    ]);
    // A free slot: nothing unmet, the scheduler is to queue it.
    await setTi("d_pool", r, "hog", { state: "success" });
    const free = await deps("d_pool", r, "t");
    expect(free.dependencies).toEqual([]);
    expect(free.message).toContain("waits for the scheduler to queue it");
  });

  it("gives the DAG's max_active_tasks with the run's active count", async () => {
    await dagWith("d_mat", [{ id: "a" }, { id: "b" }], { max_active_tasks: 1 });
    const r = await run("d_mat", 1);
    await setTi("d_mat", r, "a", { state: "queued" });
    await setTi("d_mat", r, "b", { state: "scheduled" });
    expect((await deps("d_mat", r, "b")).dependencies).toEqual([
      {
        name: "Task Instance Slots Available",
        reason:
          "The run has 1 task instance(s) queued or running, the maximum of the DAG's max_active_tasks (1).",
      },
    ]);
  });

  it("gives a task's max_active_tis_per_dag across runs", async () => {
    await dagWith("d_tis", [{ id: "x", task: { max_active_tis_per_dag: 1 } }]);
    const r1 = await run("d_tis", 1);
    const r2 = await run("d_tis", 2);
    await setTi("d_tis", r1, "x", { state: "running" });
    await setTi("d_tis", r2, "x", { state: "scheduled" });
    expect((await deps("d_tis", r2, "x")).dependencies).toEqual([
      {
        name: "Task Concurrency",
        reason:
          "The task has 1 instance(s) queued or running across all runs, the maximum of its max_active_tis_per_dag (1).",
      },
    ]);
  });

  it("gives a mapped task's max_active_tis_per_dagrun, through the map index route", async () => {
    await dagWith("d_map", [{ id: "m", task: { max_active_tis_per_dagrun: 1 } }]);
    const r = await run("d_map", 1);
    await database.db.deleteFrom("task_instance").where("dag_id", "=", "d_map").execute();
    await database.db
      .insertInto("task_instance")
      .values(
        [0, 1].map((i) => ({
          dag_id: "d_map",
          run_id: r,
          task_id: "m",
          map_index: i,
          run_logical_date: new Date("2024-05-01T00:00:00Z"),
          state: i === 0 ? ("running" as const) : ("scheduled" as const),
        })),
      )
      .execute();
    expect((await deps("d_map", r, "m", 1)).dependencies).toEqual([
      {
        name: "Task Concurrency",
        reason:
          "The task has 1 instance(s) queued or running in this run, the maximum of its max_active_tis_per_dagrun (1).",
      },
    ]);
    // The static segment does not shadow the existing map index route, nor the other way round.
    const one = await get(base("d_map", r, "m") + "/1");
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ task_id: "m", map_index: 1, state: "scheduled" });
    expect((await deps("d_map", r, "m", 0)).message).toContain("'running' state");
  });

  it("gives the time an up_for_retry instance is retried at", async () => {
    await dagWith("d_retry", [{ id: "flaky", retries: 2 }]);
    const r = await run("d_retry", 1);
    const at = new Date(Date.now() + 3_600_000);
    at.setUTCMilliseconds(0);
    await setTi("d_retry", r, "flaky", { state: "up_for_retry", try_number: 1, next_retry_at: at });
    const out = await deps("d_retry", r, "flaky");
    expect(out.state).toBe("up_for_retry");
    expect(out.dependencies).toEqual([
      { name: "Not In Retry Period", reason: expect.stringContaining(`at ${at.toISOString()} (now `) },
    ]);
    expect(out.dependencies[0]?.reason).toMatch(/^Try 1 failed; the task is retried automatically/);
  });

  it("explains a queued run of a paused DAG, and a finished run", async () => {
    await dagWith("d_paused", [{ id: "a" }]);
    await database.db.updateTable("dag").set({ is_paused: true }).where("dag_id", "=", "d_paused").execute();
    const queued = await run("d_paused", 1, "queued");
    expect((await deps("d_paused", queued, "a")).dependencies).toEqual([
      {
        name: "Dagrun Running",
        reason:
          "Task instance's DAG run is in the 'queued' state, not 'running': it starts when the DAG's max_active_runs allows.",
      },
      {
        name: "Dag Not Paused",
        reason: "Task's DAG 'd_paused' is paused: its queued runs start only once it is unpaused.",
      },
    ]);
    // A paused DAG's running run goes on (decision 0008): pausing alone holds nothing back.
    const running = await run("d_paused", 2, "running");
    expect((await deps("d_paused", running, "a")).dependencies).toEqual([]);
    const over = await run("d_paused", 3, "failed");
    expect((await deps("d_paused", over, "a")).dependencies).toEqual([
      { name: "Dagrun Running", reason: expect.stringContaining("'failed' state, not 'running'") },
    ]);
  });

  it("says which previous run a depends_on_past or wait_for_downstream task waits on", async () => {
    await dagWith("d_past", [
      { id: "p", task: { depends_on_past: true } },
      { id: "w", task: { depends_on_past: true, wait_for_downstream: true } },
      { id: "after_w", upstream: ["w"] },
    ]);
    const r1 = await run("d_past", 1);
    const r2 = await run("d_past", 2);
    await setTi("d_past", r1, "p", { state: "failed" });
    await setTi("d_past", r1, "w", { state: "success" });
    await setTi("d_past", r1, "after_w", { state: "failed" });
    // The scheduler's recorded reason is shown as it stored it.
    const stored = `Previous Dagrun State: dependsOnPast is set for this task, but 1 of its instance(s) in the previous run (${r1}) did not succeed or skip yet.`;
    await setTi("d_past", r2, "p", { state: null, wait_reason: stored });
    const p = await deps("d_past", r2, "p");
    expect(p.wait_reason).toBe(stored);
    expect(p.dependencies).toEqual([
      {
        name: "Previous Dagrun State",
        reason: `dependsOnPast is set for this task, but 1 of its instance(s) in the previous run (${r1}) did not succeed or skip yet.`,
      },
    ]);
    expect((await deps("d_past", r2, "w")).dependencies).toEqual([
      {
        name: "Previous Dagrun State",
        reason: `waitForDownstream is set for this task, but its direct downstream tasks in the previous run (${r1}) have not all succeeded or skipped yet.`,
      },
    ]);
    // The first run has no previous run to wait on.
    expect((await deps("d_past", r1, "after_w")).dependencies[0]?.name).toBe("Task Instance State");
    await setTi("d_past", r1, "p", { state: null });
    expect((await deps("d_past", r1, "p")).dependencies).toEqual([]);
  });

  it("speaks of the instance's own state: finished, running", async () => {
    await dagWith("d_own", [{ id: "a" }, { id: "b" }]);
    const r = await run("d_own", 1);
    await setTi("d_own", r, "a", { state: "success" });
    await setTi("d_own", r, "b", { state: "running" });
    const done = await deps("d_own", r, "a");
    expect(done.dependencies).toEqual([
      {
        name: "Task Instance State",
        reason: "Task is in the 'success' state, which is final: it runs again only if it is cleared.",
      },
    ]);
    const running = await deps("d_own", r, "b");
    expect(running).toEqual({
      dependencies: [],
      state: "running",
      wait_reason: null,
      message: "Task is in the 'running' state: it is running now.",
    });
  });

  describe("404s and bad paths", () => {
    it("names the missing DAG, run, task instance or map index", async () => {
      await dagWith("d_404", [{ id: "a" }]);
      const r = await run("d_404", 1);
      const code = async (url: string, status = 404) => {
        const res = await get(url);
        expect(res.statusCode, url).toBe(status);
        expect(res.headers["content-type"]).toContain("application/problem+json");
        return res.json().code as string;
      };
      expect(await code(`${base("nope", r, "a")}/dependencies`)).toBe("DAG_NOT_FOUND");
      expect(await code(`${base("d_404", "nope", "a")}/dependencies`)).toBe("DAG_RUN_NOT_FOUND");
      expect(await code(`${base("d_404", r, "nope")}/dependencies`)).toBe("TASK_INSTANCE_NOT_FOUND");
      expect(await code(`${base("d_404", r, "a")}/3/dependencies`)).toBe("TASK_INSTANCE_NOT_FOUND");
      expect(await code(`${base("d_404", r, "a")}/-2/dependencies`, 400)).toBe("PARAMETER_INVALID");
    });
  });
});
