// DAG-run routes beyond trigger-and-read: list filters and order, the batch list, marking a run
// (airflow/api/common/mark_tasks.py: set_dag_run_state_to_success / _failed / _queued), clearing
// a run, its note, and deleting it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

const DAG = makeDag("runs_dag", [
  { id: "extract" },
  { id: "load", upstream: ["extract"] },
  { id: "cleanup", upstream: ["load"], teardown: true },
]);
const OTHER = makeDag("other_dag", [{ id: "only" }]);
const enc = encodeURIComponent;

withTestDatabases("DAG run routes", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    await saveTestDag(getDb(), DAG);
    await saveTestDag(getDb(), OTHER);
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });
  const req = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
    t.server.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const trigger = async (dagId: string, day: string, note?: string) => {
    const r = await req("POST", `/dags/${dagId}/dagRuns`, {
      logical_date: `2024-06-${day}T00:00:00Z`,
      ...(note === undefined ? {} : { note }),
    });
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ dag_run_id: string; note: string | null }>();
  };
  const tiStates = async (runId: string) =>
    Object.fromEntries(
      (
        await getDb()
          .db.selectFrom("task_instance")
          .select(["task_id", "state"])
          .where("run_id", "=", runId)
          .execute()
      ).map((r) => [r.task_id, r.state]),
    );

  it("keeps a trigger's note, and sets it again with setNote", async () => {
    const run = await trigger("runs_dag", "01", "first try");
    expect(run.note).toBe("first try");
    expect((await req("GET", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`)).json().note).toBe("first try");
    const noted = await req("PATCH", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}/setNote`, {
      note: "re-run",
    });
    expect(noted.json().note).toBe("re-run");
    expect((await req("PATCH", `/dags/runs_dag/dagRuns/nope/setNote`, { note: "x" })).statusCode).toBe(404);
  });

  it("filters and orders lists, across DAGs with ~ and with the batch POST", async () => {
    await trigger("runs_dag", "02");
    await trigger("other_dag", "03");
    const asc = await req("GET", `/dags/runs_dag/dagRuns?order_by=execution_date`);
    expect(asc.json().dag_runs.map((r: { logical_date: string }) => r.logical_date.slice(0, 10))).toEqual([
      "2024-06-01",
      "2024-06-02",
    ]);
    const desc = await req("GET", `/dags/~/dagRuns?order_by=-execution_date&limit=2`);
    expect(desc.json().total_entries).toBe(3);
    expect(desc.json().dag_runs.map((r: { dag_id: string }) => r.dag_id)).toEqual(["other_dag", "runs_dag"]);
    const ranged = await req("GET", `/dags/~/dagRuns?execution_date_gte=2024-06-02T00:00:00Z`);
    expect(ranged.json().total_entries).toBe(2);
    const batch = await req("POST", `/dags/~/dagRuns/list`, {
      dag_ids: ["other_dag"],
      states: ["queued"],
      page_limit: 10,
    });
    expect(batch.json()).toMatchObject({ total_entries: 1, dag_runs: [{ dag_id: "other_dag" }] });
    expect((await req("POST", `/dags/~/dagRuns/list`, { dag_ids: [] })).json().total_entries).toBe(0);
    // run_type (Airflow 3's filter, for the UI's Browse › DAG runs): all three were triggered.
    const runType = async (run_type: unknown) => req("POST", `/dags/~/dagRuns/list`, { run_type });
    expect((await runType(["manual"])).json().total_entries).toBe(3);
    expect((await runType(["scheduled", "backfill"])).json().total_entries).toBe(0);
    expect((await runType(["nightly"])).statusCode).toBe(422);
    expect((await req("GET", `/dags/runs_dag/dagRuns?order_by=conf`)).statusCode).toBe(400);
    expect((await req("POST", `/dags/~/dagRuns/list`, { dag_idz: ["x"] })).statusCode).toBe(422);
    expect((await req("GET", `/dags/nope/dagRuns`)).statusCode).toBe(404);
  });

  it("marks a run failed: tries under way fail, unfinished ones are skipped, teardowns left to run", async () => {
    const run = await trigger("runs_dag", "10");
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: "running", try_number: 1 })
      .where("run_id", "=", run.dag_run_id)
      .where("task_id", "=", "extract")
      .execute();
    const marked = await req("PATCH", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`, { state: "failed" });
    expect(marked.statusCode, marked.body).toBe(200);
    expect(marked.json()).toMatchObject({ state: "failed" });
    expect(marked.json().end_date).not.toBeNull();
    expect(await tiStates(run.dag_run_id)).toEqual({ extract: "failed", load: "skipped", cleanup: null });
  });

  it("marks a run success: every task instance succeeds", async () => {
    const run = await trigger("runs_dag", "11");
    const marked = await req("PATCH", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`, { state: "success" });
    expect(marked.json().state).toBe("success");
    expect(await tiStates(run.dag_run_id)).toEqual({
      extract: "success",
      load: "success",
      cleanup: "success",
    });
    const queued = await req("PATCH", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`, { state: "queued" });
    expect(queued.json()).toMatchObject({ state: "queued", end_date: null });
    expect(
      (await req("PATCH", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`, { state: "running" })).statusCode,
    ).toBe(422);
    expect((await req("PATCH", `/dags/runs_dag/dagRuns/nope`, { state: "success" })).statusCode).toBe(404);
  });

  it("clears a run (dry run first, changing nothing) and deletes one with its task instances", async () => {
    const run = await trigger("runs_dag", "12");
    await req("PATCH", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`, { state: "success" });
    const dry = await req("POST", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}/clear`, { dry_run: true });
    expect(dry.json().task_instances).toHaveLength(3);
    expect(await tiStates(run.dag_run_id)).toEqual({
      extract: "success",
      load: "success",
      cleanup: "success",
    });
    const cleared = await req("POST", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}/clear`, {
      dry_run: false,
    });
    expect(cleared.json()).toMatchObject({ dag_run_id: run.dag_run_id, state: "queued" });
    expect(await tiStates(run.dag_run_id)).toEqual({ extract: null, load: null, cleanup: null });

    expect((await req("DELETE", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`)).statusCode).toBe(204);
    expect((await req("GET", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`)).statusCode).toBe(404);
    expect(await tiStates(run.dag_run_id)).toEqual({});
    expect((await req("DELETE", `/dags/runs_dag/dagRuns/${enc(run.dag_run_id)}`)).statusCode).toBe(404);
  });
});
