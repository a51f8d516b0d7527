// Assets through the REST API and the scheduler on both databases (decision 0031): a producing
// task's success (reported through the finish, with extra) records an event and queues the
// consumers; the scheduler makes one asset_triggered run that links the events; the routes list
// assets and events, get one by its url-encoded URI, and an Op's POST of an event queues an or()
// consumer; a Viewer cannot POST one.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { asset, dag, or, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { drive, newScheduler, saveSdkDag, testConfig, TestExecutor } from "../scheduler/helpers.js";
import { seedUserWithToken, startTestServer, type TestServer } from "./helpers.js";

const orders = asset("s3://Warehouse/orders.parquet", { name: "orders", group: "sales" });
const refunds = asset("s3://warehouse/refunds.parquet");
const noop = (): undefined => undefined;
const producer = dag({ dagId: "producer" }, () => {
  task({ taskId: "load", outlets: [orders] }, noop)();
});
const consumer = dag({ dagId: "consumer", schedule: [orders] }, () => {
  task("use", noop)();
});
const either = dag({ dagId: "either", schedule: or(refunds, orders) }, () => {
  task("use", noop)();
});

withTestDatabases("assets", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    for (const d of [producer, consumer, either]) await saveSdkDag(getDb(), d);
    t = await startTestServer(getDb());
    await seedUserWithToken(getDb(), "olga", "Op", "token-olga");
    await seedUserWithToken(getDb(), "vera", "Viewer", "token-vera");
  });
  afterAll(async () => {
    await t.server.close();
  });
  const req = (token: string, method: "GET" | "POST", url: string, payload?: unknown) =>
    t.server.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const assetRuns = async (dagId: string) =>
    getDb()
      .db.selectFrom("dag_run")
      .select(["id", "run_id", "state", "logical_date"])
      .where("dag_id", "=", dagId)
      .where("run_type", "=", "asset_triggered")
      .orderBy("id")
      .execute();

  it("a producer's success makes one asset_triggered run of each consumer, with the events linked", async () => {
    const config = testConfig();
    const exec = new TestExecutor(getDb());
    const scheduler = newScheduler(getDb(), config, exec);
    const run = await triggerDagRun(getDb().db, { dagId: "producer", conf: {} });
    const state = await drive(getDb(), scheduler, exec, { dagId: "producer", runId: run.run_id }, () => ({
      state: "success",
      outlet_events: [{ uri: "s3://warehouse/orders.parquet", extra: { rows: 7 } }],
    }));
    expect(state).toBe("success");
    const events = await getDb().db.selectFrom("asset_event").selectAll().execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source_dag_id: "producer",
      source_task_id: "load",
      extra: { rows: 7 },
    });
    // Two more passes (the pass that ended the producer's run may have made them already): one
    // run of each consumer, the queue consumed.
    await scheduler.runOnce();
    await scheduler.runOnce();
    const runs = await assetRuns("consumer");
    expect(runs).toHaveLength(1);
    expect(runs[0]?.run_id).toMatch(/^asset_triggered__/);
    // Airflow 2's dates: the logical date is the last queued update's time.
    expect(runs[0]?.logical_date?.getTime()).toBe(events[0]?.timestamp.getTime());
    expect(await assetRuns("either")).toHaveLength(1);
    expect(await getDb().db.selectFrom("asset_dag_run_queue").selectAll().execute()).toEqual([]);

    const upstream = await req(
      "token-vera",
      "GET",
      `/dags/consumer/dagRuns/${encodeURIComponent(runs[0]?.run_id ?? "")}/upstreamAssetEvents`,
    );
    expect(upstream.statusCode, upstream.body).toBe(200);
    expect(upstream.json()).toMatchObject({
      total_entries: 1,
      asset_events: [
        {
          asset_uri: "s3://warehouse/orders.parquet",
          source_dag_id: "producer",
          extra: { rows: 7 },
          created_dagruns: expect.arrayContaining([expect.objectContaining({ dag_id: "consumer" })]),
        },
      ],
    });
    await scheduler.stop();
  });

  it("lists assets with their consumers and producers, and gets one by its url-encoded URI", async () => {
    const list = await req("token-vera", "GET", "/assets?uri_pattern=warehouse&order_by=uri");
    expect(list.statusCode, list.body).toBe(200);
    const body = list.json<{ total_entries: number; assets: { uri: string; consuming_dags: unknown[] }[] }>();
    expect(body.total_entries).toBe(2);
    expect(body.assets.map((a) => a.uri)).toEqual([
      "s3://warehouse/orders.parquet",
      "s3://warehouse/refunds.parquet",
    ]);
    const one = await req(
      "token-vera",
      "GET",
      `/assets/${encodeURIComponent("s3://warehouse/orders.parquet")}`,
    );
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({
      name: "orders",
      group: "sales",
      consuming_dags: [{ dag_id: "consumer" }, { dag_id: "either" }],
      producing_tasks: [{ dag_id: "producer", task_id: "load" }],
    });
    const missing = await req("token-vera", "GET", `/assets/${encodeURIComponent("s3://nope/x")}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe("ASSET_NOT_FOUND");
    expect((await req("token-vera", "GET", "/assets?limit=1&offset=1")).json().assets).toHaveLength(1);
  });

  it("a DAG's details show the asset condition it is scheduled on, as Airflow's asset_expression", async () => {
    const details = async (dagId: string) => {
      const r = await req("token-vera", "GET", `/dags/${dagId}/details`);
      expect(r.statusCode, r.body).toBe(200);
      return r.json<{ asset_expression: unknown; timetable_summary: string | null }>();
    };
    expect((await details("either")).asset_expression).toEqual({
      type: "any",
      objects: [
        { type: "asset", uri: "s3://warehouse/refunds.parquet" },
        { type: "asset", uri: "s3://warehouse/orders.parquet" },
      ],
    });
    // A list of one asset is that asset.
    expect((await details("consumer")).asset_expression).toEqual({
      type: "asset",
      uri: "s3://warehouse/orders.parquet",
    });
    expect((await details("producer")).asset_expression).toBeNull();
  });

  it("the DAG list, one DAG and its details describe an asset schedule as `updraft dags list` does", async () => {
    const list = await req("token-vera", "GET", "/dags?order_by=dag_id");
    expect(list.statusCode, list.body).toBe(200);
    type Dag = { dag_id: string; timetable_summary: string | null; timetable_description: string | null };
    const described = list
      .json<{ dags: Dag[] }>()
      .dags.map((d) => [d.dag_id, d.timetable_summary, d.timetable_description]);
    expect(described).toEqual([
      ["consumer", "Asset", "Asset: s3://warehouse/orders.parquet"],
      ["either", "Asset", "Asset: s3://warehouse/refunds.parquet | s3://warehouse/orders.parquet"],
      ["producer", "None", "None"],
    ]);
    for (const path of ["/dags/either", "/dags/either/details"]) {
      const r = await req("token-vera", "GET", path);
      expect(r.json<Dag>().timetable_description, path).toBe(
        "Asset: s3://warehouse/refunds.parquet | s3://warehouse/orders.parquet",
      );
    }
  });

  it("an Op's POST of an event queues the consumers; a Viewer may not; events filter", async () => {
    const denied = await req("token-vera", "POST", "/assets/events", {
      asset_uri: "s3://warehouse/refunds.parquet",
    });
    expect(denied.statusCode).toBe(403);
    const created = await req("token-olga", "POST", "/assets/events", {
      asset_uri: "S3://WAREHOUSE/refunds.parquet",
      extra: { by: "hand" },
    });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({
      asset_uri: "s3://warehouse/refunds.parquet",
      source_dag_id: null,
    });
    const unknown = await req("token-olga", "POST", "/assets/events", { asset_uri: "s3://nope/x" });
    expect(unknown.statusCode).toBe(404);
    const bad = await req("token-olga", "POST", "/assets/events", { asset_uri: "no-scheme" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("ASSET_URI_INVALID");

    const scheduler = newScheduler(getDb(), testConfig(), new TestExecutor(getDb()));
    await scheduler.runOnce();
    await scheduler.stop();
    // or(refunds, orders): the refunds event alone makes a second run of "either"; "consumer" waits.
    expect(await assetRuns("either")).toHaveLength(2);
    expect(await assetRuns("consumer")).toHaveLength(1);

    const byProducer = await req("token-vera", "GET", "/assets/events?source_dag_id=producer");
    expect(byProducer.json().total_entries).toBe(1);
    const all = await req("token-vera", "GET", "/assets/events?order_by=-timestamp");
    expect(all.json<{ asset_events: { extra: unknown }[] }>().asset_events[0]?.extra).toEqual({ by: "hand" });
    expect((await req("token-vera", "GET", "/assets/events?order_by=nope")).statusCode).toBe(400);
  });
});
