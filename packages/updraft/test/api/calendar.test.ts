// The UI's Calendar endpoint: runs counted per UTC day (or hour) and state within a range.
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

const DATES = [
  "2024-05-01T01:00:00Z",
  "2024-05-01T23:00:00Z",
  "2024-05-02T05:00:00Z",
  "2023-01-01T00:00:00Z",
];

withTestDatabases("calendar endpoint", (getDb) => {
  let t: TestServer;
  const get = (url: string) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${API_TOKEN}` } });

  beforeAll(async () => {
    const database = getDb();
    await saveTestDag(database, makeDag("cal_dag", [{ id: "a" }]));
    t = await startTestServer(database, { apiToken: API_TOKEN });
    for (const logicalDate of DATES) {
      await triggerTestRun(database, "cal_dag", logicalDate);
    }
    await database.db
      .updateTable("dag_run")
      .set({ state: "failed" })
      .where("logical_date", "=", new Date(DATES[1]!))
      .execute();
  });
  afterAll(async () => {
    await t.server.close();
  });

  it("counts runs per UTC day and state within the range", async () => {
    const res = await get(
      "/api/v1/ui/calendar/cal_dag?logical_date_gte=2024-01-01T00:00:00Z&logical_date_lte=2024-12-31T23:59:59Z",
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      total_entries: 3,
      dag_runs: [
        { date: "2024-05-01T00:00:00.000Z", state: "failed", count: 1 },
        { date: "2024-05-01T00:00:00.000Z", state: "queued", count: 1 },
        { date: "2024-05-02T00:00:00.000Z", state: "queued", count: 1 },
      ],
    });
  });

  it("counts per hour when asked", async () => {
    const res = await get(
      "/api/v1/ui/calendar/cal_dag?granularity=hourly&logical_date_gte=2024-05-01T00:00:00Z&logical_date_lte=2024-05-01T23:59:59Z",
    );
    expect(res.json<{ dag_runs: { date: string }[] }>().dag_runs.map((d) => d.date)).toEqual([
      "2024-05-01T01:00:00.000Z",
      "2024-05-01T23:00:00.000Z",
    ]);
  });

  it("refuses a reversed or too long range and an unknown DAG", async () => {
    const reversed = await get(
      "/api/v1/ui/calendar/cal_dag?logical_date_gte=2024-05-02T00:00:00Z&logical_date_lte=2024-05-01T00:00:00Z",
    );
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json<{ detail: string }>().detail).toMatch(/logical_date_gte must be before/);
    expect((await get("/api/v1/ui/calendar/cal_dag?logical_date_gte=2000-01-01T00:00:00Z")).statusCode).toBe(
      400,
    );
    expect((await get("/api/v1/ui/calendar/nope")).statusCode).toBe(404);
  });
});
