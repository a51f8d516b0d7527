// The audit log through `eventLogs`: every change through the API is recorded with the user who
// made it (Airflow's event log `owner`), and the list filters as Airflow's does.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { makeDag, saveTestDag, seedUserWithToken, startTestServer, type TestServer } from "./helpers.js";

withTestDatabases("event logs", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    await saveTestDag(getDb(), makeDag("audited", [{ id: "a" }]));
    t = await startTestServer(getDb());
    await seedUserWithToken(getDb(), "olga", "Op", "token-olga");
    await seedUserWithToken(getDb(), "ulrich", "User", "token-ulrich");
    await seedUserWithToken(getDb(), "vera", "Viewer", "token-vera");
  });
  afterAll(async () => {
    await t.server.close();
  });
  const req = (token: string, method: "GET" | "POST" | "PATCH", url: string, payload?: unknown) =>
    t.server.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it("records who triggered, marked and edited, and filters by DAG, event and owner", async () => {
    const run = await req("token-ulrich", "POST", "/dags/audited/dagRuns", { dag_run_id: "r1" });
    expect(run.statusCode, run.body).toBe(200);
    expect(
      (await req("token-ulrich", "PATCH", "/dags/audited/dagRuns/r1", { state: "failed" })).statusCode,
    ).toBe(200);
    expect((await req("token-olga", "POST", "/variables", { key: "k", value: "v" })).statusCode).toBe(200);

    const all = await req("token-vera", "GET", "/eventLogs?order_by=-event_log_id");
    expect(all.statusCode, all.body).toBe(200);
    const events = all.json<{ event_logs: { event: string; owner: string; dag_id: string | null }[] }>()
      .event_logs;
    expect(events.map((e) => [e.event, e.owner])).toEqual([
      ["variable.create", "olga"],
      ["dag_run.mark_failed", "ulrich"],
      ["trigger", "ulrich"],
    ]);
    expect((await req("token-vera", "GET", "/eventLogs?dag_id=audited")).json().total_entries).toBe(2);
    expect((await req("token-vera", "GET", "/eventLogs?owner=olga")).json().total_entries).toBe(1);
    expect(
      (await req("token-vera", "GET", "/eventLogs?excluded_events=trigger,variable.create")).json(),
    ).toMatchObject({
      total_entries: 1,
      event_logs: [{ event: "dag_run.mark_failed" }],
    });
    const id = all.json().event_logs[0].event_log_id as number;
    expect((await req("token-vera", "GET", `/eventLogs/${id}`)).json().owner).toBe("olga");
    expect((await req("token-vera", "GET", "/eventLogs/999999")).json().code).toBe("EVENT_LOG_NOT_FOUND");
    expect((await req("token-vera", "GET", "/eventLogs?order_by=extra")).statusCode).toBe(400);
  });
});
