// A task instance's REST routes: get (unmapped and by map index), a mapped task's instances, the
// tries' history, and XComs with their values in the order they were written.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { triggerDagRun } from "../../src/services/index.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

const DAG = makeDag("ti_dag", [{ id: "a", retries: 2 }, { id: "m" }]);
const RUN = "manual__2024-05-01T00:00:00+00:00";
const BASE = `/api/v1/dags/ti_dag/dagRuns/${encodeURIComponent(RUN)}/taskInstances`;

withTestDatabases("task instance routes", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    const database = getDb();
    await saveTestDag(database, DAG);
    t = await startTestServer(database, { apiToken: API_TOKEN });
    await triggerDagRun(
      database.db,
      {
        dagId: "ti_dag",
        conf: {},
        runId: null,
        logicalDate: "2024-05-01T00:00:00Z",
        note: null,
        owner: "test",
      },
      { events: null, defaultTimezone: "UTC" },
    );
    const db = database.db;
    // "a": failed once (history), now running its second try.
    await db
      .updateTable("task_instance")
      .set({
        state: "running",
        try_number: 2,
        hostname: "w1",
        pid: 42,
        start_date: new Date("2024-05-01T00:01:00Z"),
      })
      .where("task_id", "=", "a")
      .execute();
    await db
      .insertInto("task_instance_history")
      .values({
        dag_id: "ti_dag",
        run_id: RUN,
        task_id: "a",
        map_index: -1,
        try_number: 1,
        state: "failed",
        start_date: new Date("2024-05-01T00:00:10Z"),
        end_date: new Date("2024-05-01T00:00:20Z"),
        duration: 10,
        max_tries: 2,
      })
      .execute();
    // "m": mapped into three instances.
    await db.deleteFrom("task_instance").where("task_id", "=", "m").execute();
    await db
      .insertInto("task_instance")
      .values(
        [0, 1, 2].map((i) => ({
          dag_id: "ti_dag",
          run_id: RUN,
          task_id: "m",
          map_index: i,
          // As the scheduler writes an expansion: the run's logical date kept on the row.
          run_logical_date: new Date("2024-05-01T00:00:00Z"),
          state: i === 1 ? ("failed" as const) : ("success" as const),
        })),
      )
      .execute();
    await db
      .insertInto("xcom")
      .values([
        {
          dag_id: "ti_dag",
          run_id: RUN,
          task_id: "m",
          map_index: 1,
          key: "return_value",
          value: '{"z":1,"a":[2,3]}',
        },
        { dag_id: "ti_dag", run_id: RUN, task_id: "m", map_index: 0, key: "total", value: "7" },
      ])
      .execute();
  });
  afterAll(async () => {
    await t.server.close();
  });
  const get = (url: string) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${API_TOKEN}` } });

  it("gets an unmapped instance and one map index, and names what is missing", async () => {
    const a = await get(`${BASE}/a`);
    expect(a.statusCode).toBe(200);
    expect(a.json()).toMatchObject({
      task_id: "a",
      dag_run_id: RUN,
      state: "running",
      try_number: 2,
      max_tries: 2,
      hostname: "w1",
      logical_date: "2024-05-01T00:00:00.000Z",
    });
    expect((await get(`${BASE}/m/1`)).json()).toMatchObject({ task_id: "m", map_index: 1, state: "failed" });
    const missing = await get(`${BASE}/m/9`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toContain("map index 9");
    expect((await get(`${BASE}/nope`)).json().code).toBe("TASK_INSTANCE_NOT_FOUND");
    expect((await get(`/api/v1/dags/ti_dag/dagRuns/nope/taskInstances/a`)).json().code).toBe(
      "DAG_RUN_NOT_FOUND",
    );
    expect((await get(`${BASE}/m/-5`)).statusCode).toBe(400);
  });

  it("lists a mapped task's instances with state filter, order and paging", async () => {
    const all = await get(`${BASE}/m/listMapped`);
    expect(all.json().total_entries).toBe(3);
    expect(all.json().task_instances.map((x: { map_index: number }) => x.map_index)).toEqual([0, 1, 2]);
    const desc = await get(`${BASE}/m/listMapped?order_by=-map_index&limit=2`);
    expect(desc.json().task_instances.map((x: { map_index: number }) => x.map_index)).toEqual([2, 1]);
    expect(desc.json().total_entries).toBe(3);
    const failed = await get(`${BASE}/m/listMapped?state=failed`);
    expect(failed.json()).toMatchObject({ total_entries: 1, task_instances: [{ map_index: 1 }] });
    expect((await get(`${BASE}/m/listMapped?order_by=pool`)).statusCode).toBe(400);
    expect((await get(`${BASE}/zz/listMapped`)).statusCode).toBe(404);
  });

  it("lists every try: finished ones from the history, then the running one", async () => {
    const tries = await get(`${BASE}/a/tries`);
    expect(tries.statusCode).toBe(200);
    expect(tries.json().total_entries).toBe(2);
    expect(tries.json().task_instances).toMatchObject([
      { try_number: 1, state: "failed", duration: 10 },
      { try_number: 2, state: "running", hostname: "w1", pid: 42 },
    ]);
  });

  it("lists XComs and returns a value with its keys in the order they were written", async () => {
    const list = await get(`${BASE}/m/xcomEntries`);
    expect(list.json().total_entries).toBe(2);
    expect(list.json().xcom_entries).toMatchObject([
      { key: "total", map_index: 0 },
      { key: "return_value", map_index: 1 },
    ]);
    expect(list.json().xcom_entries[0]).not.toHaveProperty("value");
    const text = await get(`${BASE}/m/xcomEntries/return_value?map_index=1`);
    expect(text.json().value).toBe('{"z":1,"a":[2,3]}');
    const native = await get(`${BASE}/m/xcomEntries/return_value?map_index=1&stringify=false`);
    expect(JSON.stringify(native.json().value)).toBe('{"z":1,"a":[2,3]}');
    const missing = await get(`${BASE}/m/xcomEntries/return_value`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe("XCOM_NOT_FOUND");
  });

  it("filters a run's list by state and pool, and lists across runs with the batch POST", async () => {
    const failed = await get(`${BASE}?state=failed`);
    expect(failed.json()).toMatchObject({
      total_entries: 1,
      task_instances: [{ task_id: "m", map_index: 1 }],
    });
    expect((await get(`${BASE}?pool=default_pool`)).json().total_entries).toBe(4);
    expect((await get(`${BASE}?pool=gpu`)).json().total_entries).toBe(0);
    const batch = await t.server.app.inject({
      method: "POST",
      url: "/api/v1/dags/~/dagRuns/~/taskInstances/list",
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { dag_ids: ["ti_dag"], state: ["success"], page_limit: 10 },
    });
    expect(batch.statusCode, batch.body).toBe(200);
    expect(batch.json().total_entries).toBe(2);
    expect(batch.json().task_instances[0]).toMatchObject({
      dag_run_id: RUN,
      logical_date: "2024-05-01T00:00:00.000Z",
    });
    const none = await t.server.app.inject({
      method: "POST",
      url: "/api/v1/dags/~/dagRuns/~/taskInstances/list",
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { dag_run_ids: ["nope"] },
    });
    expect(none.json().total_entries).toBe(0);
    // The total is the same on every page, past the last one too (it is counted apart there).
    const page = async (page_offset: number) =>
      (
        await t.server.app.inject({
          method: "POST",
          url: "/api/v1/dags/~/dagRuns/~/taskInstances/list",
          headers: { authorization: `Bearer ${API_TOKEN}` },
          payload: { dag_ids: ["ti_dag"], page_limit: 3, page_offset },
        })
      ).json();
    const pages = [await page(0), await page(3), await page(50)];
    expect(pages.map((p) => [p.task_instances.length, p.total_entries])).toEqual([
      [3, 4],
      [1, 4],
      [0, 4],
    ]);
    expect(pages[0].task_instances[0]).not.toHaveProperty("total_entries");
  });

  it("sorts lists by order_by, with the key breaking ties, and names the allowed values otherwise", async () => {
    const batch = async (order_by: string) =>
      t.server.app.inject({
        method: "POST",
        url: "/api/v1/dags/~/dagRuns/~/taskInstances/list",
        headers: { authorization: `Bearer ${API_TOKEN}` },
        payload: { dag_ids: ["ti_dag"], order_by },
      });
    const keys = (body: { task_instances: { task_id: string; map_index: number; state: string }[] }) =>
      body.task_instances.map((ti) => `${ti.task_id}[${ti.map_index}]:${ti.state}`);
    const byKey = keys((await batch("dag_id")).json());
    const byStateDesc = keys((await batch("-state")).json());
    expect(byStateDesc).toHaveLength(byKey.length);
    const states = byStateDesc.map((k) => k.split(":")[1] ?? "");
    expect(states).toEqual([...states].sort().reverse());
    expect(new Set(byStateDesc)).toEqual(new Set(byKey));
    const perRun = await get(`${BASE}?order_by=-map_index`);
    const mapIndexes = perRun.json().task_instances.map((ti: { map_index: number }) => ti.map_index);
    expect(mapIndexes).toEqual([...mapIndexes].sort((a, b) => b - a));
    const bad = await batch("password");
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toContain("start_date");
  });

  it("sets a note on an unmapped and on a mapped instance", async () => {
    const patch = (url: string, payload: unknown) =>
      t.server.app.inject({
        method: "PATCH",
        url,
        headers: { authorization: `Bearer ${API_TOKEN}` },
        payload: payload as Record<string, unknown>,
      });
    expect((await patch(`${BASE}/a/setNote`, { note: "flaky upstream" })).json().note).toBe("flaky upstream");
    expect((await get(`${BASE}/a`)).json().note).toBe("flaky upstream");
    expect((await patch(`${BASE}/m/2/setNote`, { note: "shard 2" })).json()).toMatchObject({
      map_index: 2,
      note: "shard 2",
    });
    expect((await patch(`${BASE}/m/7/setNote`, { note: "x" })).statusCode).toBe(404);
    expect((await patch(`${BASE}/a/setNote`, { notes: "x" })).statusCode).toBe(422);
  });
});
