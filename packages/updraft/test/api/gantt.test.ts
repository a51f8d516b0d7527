// The UI's Gantt endpoint: every try of a run's task instances, ended tries from the history and
// the current try once, ordered by task, map index and try.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  startTestServer,
  type TestServer,
  triggerTestRun,
} from "./helpers.js";

const RUN = "manual__2024-05-01T00:00:00+00:00";
const at = (m: number) => new Date(Date.UTC(2024, 4, 1, 0, m));

withTestDatabases("gantt endpoint", (getDb) => {
  let t: TestServer;
  const get = (url: string) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${API_TOKEN}` } });

  beforeAll(async () => {
    const database = getDb();
    await saveTestDag(
      database,
      makeDag("gantt_dag", [
        { id: "a", retries: 1 },
        { id: "b", upstream: ["a"] },
      ]),
    );
    t = await startTestServer(database, { apiToken: API_TOKEN });
    await triggerTestRun(database, "gantt_dag", "2024-05-01T00:00:00Z");
    const db = database.db;
    // "a": try 1 failed (history), try 2 running now. "b": never tried.
    await db
      .insertInto("task_instance_history")
      .values({
        dag_id: "gantt_dag",
        run_id: RUN,
        task_id: "a",
        map_index: -1,
        try_number: 1,
        state: "failed",
        queued_dttm: at(0),
        start_date: at(1),
        end_date: at(2),
      })
      .execute();
    await db
      .updateTable("task_instance")
      .set({ state: "running", try_number: 2, queued_dttm: at(3), start_date: at(4), end_date: null })
      .where("task_id", "=", "a")
      .execute();
  });
  afterAll(async () => {
    await t.server.close();
  });

  it("lists the ended try from the history and the current try once", async () => {
    const res = await get(`/api/v1/ui/gantt/gantt_dag/${encodeURIComponent(RUN)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      dag_id: "gantt_dag",
      dag_run_id: RUN,
      tries: [
        {
          task_id: "a",
          map_index: -1,
          try_number: 1,
          state: "failed",
          queued_when: at(0).toISOString(),
          start_date: at(1).toISOString(),
          end_date: at(2).toISOString(),
        },
        {
          task_id: "a",
          map_index: -1,
          try_number: 2,
          state: "running",
          queued_when: at(3).toISOString(),
          start_date: at(4).toISOString(),
          end_date: null,
        },
      ],
    });
  });

  it("does not repeat a try that ended (it is in the history)", async () => {
    await getDb()
      .db.insertInto("task_instance_history")
      .values({
        dag_id: "gantt_dag",
        run_id: RUN,
        task_id: "a",
        map_index: -1,
        try_number: 2,
        state: "success",
        start_date: at(4),
        end_date: at(5),
      })
      .execute();
    const tries = (await get(`/api/v1/ui/gantt/gantt_dag/${encodeURIComponent(RUN)}`)).json<{
      tries: { try_number: number; state: string }[];
    }>().tries;
    expect(tries.map((x) => [x.try_number, x.state])).toEqual([
      [1, "failed"],
      [2, "success"],
    ]);
  });

  it("is 404 for an unknown run", async () => {
    expect((await get("/api/v1/ui/gantt/gantt_dag/nope")).statusCode).toBe(404);
  });
});
