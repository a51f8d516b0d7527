// GET …/taskInstances/{task_id}/reschedules: a task instance's task_reschedule rows (each poke of a
// sensor in mode "reschedule" that was not done), every try's or one try's, and a 404 naming the
// instance when there is none.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { triggerDagRun } from "../../src/services/index.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

withTestDatabases("task instance reschedules", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
    await saveTestDag(getDb(), makeDag("resched", [{ id: "sensor" }, { id: "other" }]));
    await triggerDagRun(getDb().db, { dagId: "resched", runId: "r", conf: {} });
    const at = (s: number) => new Date(Date.UTC(2024, 5, 1, 0, 0, s));
    await getDb()
      .db.insertInto("task_reschedule")
      .values(
        [
          [1, 0, 1, 5],
          [1, 5, 6, 10],
          [2, 20, 22, 30],
        ].map(([tryNumber, start, end, again]) => ({
          dag_id: "resched",
          run_id: "r",
          task_id: "sensor",
          map_index: -1,
          try_number: tryNumber!,
          start_date: at(start!),
          end_date: at(end!),
          duration: end! - start!,
          reschedule_date: at(again!),
        })),
      )
      .execute();
  });
  afterAll(async () => {
    await t.server.close();
  });
  const get = (url: string) =>
    t.server.app.inject({
      method: "GET",
      url: `/api/v1/dags/resched/dagRuns/r/taskInstances/${url}`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });

  it("lists every try's reschedules in order, or one try's", async () => {
    const all = await get("sensor/reschedules");
    expect(all.statusCode).toBe(200);
    const body = all.json() as { task_reschedules: Record<string, unknown>[]; total_entries: number };
    expect(body.total_entries).toBe(3);
    expect(body.task_reschedules[0]).toMatchObject({
      dag_id: "resched",
      dag_run_id: "r",
      task_id: "sensor",
      map_index: -1,
      try_number: 1,
      start_date: "2024-06-01T00:00:00.000Z",
      end_date: "2024-06-01T00:00:01.000Z",
      duration: 1,
      reschedule_date: "2024-06-01T00:00:05.000Z",
    });
    expect(body.task_reschedules.map((r) => r["try_number"])).toEqual([1, 1, 2]);
    const second = (await get("sensor/reschedules?try_number=2")).json() as typeof body;
    expect(second.task_reschedules.map((r) => r["reschedule_date"])).toEqual(["2024-06-01T00:00:30.000Z"]);
    expect((await get("other/reschedules")).json()).toEqual({ task_reschedules: [], total_entries: 0 });
  });

  it("answers 404 for a task instance that does not exist", async () => {
    const res = await get("nope/reschedules");
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("TASK_INSTANCE_NOT_FOUND");
    expect((await get("sensor/reschedules?map_index=3")).statusCode).toBe(404);
  });
});
