// The UI's Durations endpoint: the last N runs oldest first, and per task arrays aligned with them
// (seconds ran, seconds landed after the data interval's end, tries), mapped instances as one.
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

const DAYS = ["2024-05-01", "2024-05-02", "2024-05-03"];
const run = (day: string) => `manual__${day}T00:00:00+00:00`;
/** Minute `m` after midnight of `day`, UTC. */
const at = (day: string, m: number) => new Date(`${day}T00:${String(m).padStart(2, "0")}:00Z`);

interface Durations {
  dag_runs: { dag_run_id: string; duration: number | null; state: string }[];
  total_entries: number;
  tasks: {
    task_id: string;
    duration: (number | null)[];
    landing: (number | null)[];
    tries: (number | null)[];
  }[];
}

withTestDatabases("durations endpoint", (getDb) => {
  let t: TestServer;
  const get = (url: string) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${API_TOKEN}` } });

  beforeAll(async () => {
    const database = getDb();
    const db = database.db;
    await saveTestDag(database, makeDag("dur_dag", [{ id: "a" }, { id: "b", upstream: ["a"] }]));
    t = await startTestServer(database, { apiToken: API_TOKEN });
    for (const day of DAYS) await triggerTestRun(database, "dur_dag", `${day}T00:00:00Z`);
    // Run 1 ran 00:01–00:10; "a" 00:01–00:03 in 2 tries, "b" 00:04–00:10. The data interval ends
    // at 00:00, so "a" landed 180 s and "b" 600 s after it.
    const day = DAYS[0]!;
    await db
      .updateTable("dag_run")
      .set({ state: "success", start_date: at(day, 1), end_date: at(day, 10), data_interval_end: at(day, 0) })
      .where("run_id", "=", run(day))
      .execute();
    await db
      .updateTable("task_instance")
      .set({ state: "success", try_number: 2, start_date: at(day, 1), end_date: at(day, 3) })
      .where("run_id", "=", run(day))
      .where("task_id", "=", "a")
      .execute();
    await db
      .updateTable("task_instance")
      .set({ state: "success", try_number: 1, start_date: at(day, 4), end_date: at(day, 10) })
      .where("run_id", "=", run(day))
      .where("task_id", "=", "b")
      .execute();
  });
  afterAll(async () => {
    await t.server.close();
  });

  it("charts the runs oldest first with per-task arrays aligned to them", async () => {
    const res = await get("/api/v1/ui/durations/dur_dag");
    expect(res.statusCode).toBe(200);
    const body = res.json<Durations>();
    expect(body.total_entries).toBe(3);
    expect(body.dag_runs.map((r) => [r.dag_run_id, r.duration])).toEqual([
      [run(DAYS[0]!), 540],
      [run(DAYS[1]!), null],
      [run(DAYS[2]!), null],
    ]);
    expect(body.tasks).toEqual([
      { task_id: "a", duration: [120, null, null], landing: [180, null, null], tries: [2, 0, 0] },
      { task_id: "b", duration: [360, null, null], landing: [600, null, null], tries: [1, 0, 0] },
    ]);
  });

  it("takes the newest `limit` runs and caps the limit", async () => {
    const two = (await get("/api/v1/ui/durations/dur_dag?limit=2")).json<Durations>();
    expect(two.dag_runs.map((r) => r.dag_run_id)).toEqual([run(DAYS[1]!), run(DAYS[2]!)]);
    expect(two.tasks[0]?.tries).toEqual([0, 0]);
    expect((await get("/api/v1/ui/durations/dur_dag?limit=100000")).statusCode).toBe(200);
  });

  it("says what is wrong with a bad limit or an unknown DAG", async () => {
    const bad = await get("/api/v1/ui/durations/dur_dag?limit=0");
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ detail: string }>().detail).toMatch(/limit/);
    expect((await get("/api/v1/ui/durations/nope")).statusCode).toBe(404);
  });
});
