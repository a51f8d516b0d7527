// DAG routes: Airflow's list filters (tags, dag_id_pattern, only_active, paused) and order,
// pausing many DAGs at once, and a DAG's tasks in Airflow's Task shape.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  startTestServer,
  triggerTestRun,
  type TestServer,
} from "./helpers.js";

withTestDatabases("DAG routes", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    const database = getDb();
    await saveTestDag(
      database,
      makeDag("sales_daily", [{ id: "extract" }, { id: "load", upstream: ["extract"], retries: 2 }]),
    );
    await saveTestDag(database, makeDag("sales_hourly", [{ id: "x" }]));
    await saveTestDag(database, makeDag("ml_train", [{ id: "fit" }]));
    await saveTestDag(database, makeDag("under_score", [{ id: "y" }]));
    await database.db
      .updateTable("dag")
      .set({ tags: JSON.stringify(["sales", "finance"]) })
      .where("dag_id", "=", "sales_daily")
      .execute();
    await database.db
      .updateTable("dag")
      .set({ tags: JSON.stringify(["ml"]) })
      .where("dag_id", "=", "ml_train")
      .execute();
    t = await startTestServer(database, { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });
  const req = (method: "GET" | "PATCH", url: string, payload?: unknown) =>
    t.server.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const ids = (body: { dags: { dag_id: string }[] }) => body.dags.map((d) => d.dag_id);

  it("filters by tags (any of them), by a case-insensitive id substring, and orders", async () => {
    expect(ids((await req("GET", "/dags?tags=finance&tags=ml")).json())).toEqual(["ml_train", "sales_daily"]);
    expect(ids((await req("GET", "/dags?dag_id_pattern=SALES")).json())).toEqual([
      "sales_daily",
      "sales_hourly",
    ]);
    // A pattern's _ is a character, not a LIKE wildcard.
    expect(ids((await req("GET", "/dags?dag_id_pattern=r_s")).json())).toEqual(["under_score"]);
    expect(ids((await req("GET", "/dags?order_by=-dag_id&limit=2")).json())).toEqual([
      "under_score",
      "sales_hourly",
    ]);
    expect((await req("GET", "/dags?order_by=-dag_id&limit=2")).json().total_entries).toBe(4);
    expect((await req("GET", "/dags?order_by=owners")).statusCode).toBe(400);
  });

  it("filters by the state of each DAG's latest run (Airflow 3's last_dag_run_state)", async () => {
    const database = getDb();
    // ml_train: an older failed run, then a newer success; under_score: only a failed run.
    await triggerTestRun(database, "ml_train", "2024-01-01T00:00:00Z");
    await triggerTestRun(database, "ml_train", "2024-01-02T00:00:00Z");
    await triggerTestRun(database, "under_score", "2024-01-01T00:00:00Z");
    const setState = async (dagId: string, day: string, state: "failed" | "success") =>
      database.db
        .updateTable("dag_run")
        .set({ state, run_after: new Date(`2024-01-0${day}T00:00:00Z`) })
        .where("dag_id", "=", dagId)
        .where("logical_date", "=", new Date(`2024-01-0${day}T00:00:00Z`))
        .execute();
    await setState("ml_train", "1", "failed");
    await setState("ml_train", "2", "success");
    await setState("under_score", "1", "failed");
    expect(ids((await req("GET", "/dags?last_dag_run_state=failed")).json())).toEqual(["under_score"]);
    expect(ids((await req("GET", "/dags?last_dag_run_state=success")).json())).toEqual(["ml_train"]);
    expect((await req("GET", "/dags?last_dag_run_state=failed")).json().total_entries).toBe(1);
    expect((await req("GET", "/dags?last_dag_run_state=broken")).statusCode).toBe(400);
  });

  it("pauses the DAGs a pattern selects, and refuses a PATCH of many without a pattern", async () => {
    const paused = await req("PATCH", "/dags?dag_id_pattern=sales", { is_paused: true });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(ids(paused.json())).toEqual(["sales_daily", "sales_hourly"]);
    expect(ids((await req("GET", "/dags?paused=true")).json())).toEqual(["sales_daily", "sales_hourly"]);
    expect(ids((await req("GET", "/dags?paused=false")).json())).toEqual(["ml_train", "under_score"]);
    expect((await req("PATCH", "/dags", { is_paused: true })).statusCode).toBe(400);
    expect((await req("PATCH", "/dags/ml_train", { is_paused: "yes" })).statusCode).toBe(422);
    expect(
      (await req("PATCH", "/dags/ml_train?update_mask=is_paused", { is_paused: true })).json().is_paused,
    ).toBe(true);
  });

  it("lists a DAG's tasks in Airflow's Task shape and gets one", async () => {
    const tasks = await req("GET", "/dags/sales_daily/tasks");
    expect(tasks.json().total_entries).toBe(2);
    expect(tasks.json().tasks[1]).toMatchObject({
      task_id: "load",
      retries: 2,
      retry_delay: { __type: "TimeDelta", seconds: 300 },
      downstream_task_ids: [],
      is_mapped: false,
      class_ref: { class_name: "@task" },
    });
    expect((await req("GET", "/dags/sales_daily/tasks/extract")).json().downstream_task_ids).toEqual([
      "load",
    ]);
    expect((await req("GET", "/dags/sales_daily/tasks/nope")).json().code).toBe("TASK_NOT_FOUND");
    expect((await req("GET", "/dags/nope/tasks")).statusCode).toBe(404);
  });
});
