// Data-aware scheduling through the whole engine (decision 0031), in this process as
// `updraft dags test` runs it (scheduler, DAG processor, LocalExecutor runners from dist/, on an
// in-memory database): a producer's success records asset events with the extra its body gave,
// a consumer scheduled on the asset gets an asset_triggered run whose task sees
// triggering_asset_events, an and() consumer waits for both assets, a paused consumer keeps its
// queue without running, and a DAG file naming a bad asset is an import error of its own.
// Needs dist/ (npm run build).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getDagRun, listDagRuns, type Database } from "../../src/db/index.js";
import { setDagPaused, triggerDagRun } from "../../src/services/index.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";

let t: TestEngine;
let database: Database;

// Each file declares the assets it names (the URI is what identifies an asset).
const ORDERS = `const orders = asset("S3://Warehouse/orders.parquet", { group: "sales" });`;
const CUSTOMERS = `const customers = asset("s3://warehouse/customers.parquet");`;

const DAGS = {
  produce_orders: `import { asset, dag, task } from "updraft";
${ORDERS}
const load = task({ taskId: "load", outlets: [orders] }, (ctx) => {
  ctx.outletEvents(orders).extra = { rows: 42, day: ctx.ds };
  return "ok";
});
export default dag({ dagId: "produce_orders" }, () => { load(); });`,
  produce_customers: `import { BashOperator, asset, dag } from "updraft";
${CUSTOMERS}
export default dag({ dagId: "produce_customers" }, () => {
  new BashOperator({ taskId: "load", bashCommand: "true", outlets: [customers] });
});`,
  on_orders: `import { asset, dag, task } from "updraft";
${ORDERS}
const report = task("report", (ctx) => JSON.stringify({
  type: ctx.dag_run.run_type,
  events: Object.fromEntries(Object.entries(ctx.triggeringAssetEvents).map(([uri, evs]) =>
    [uri, evs.map((e) => ({ extra: e.extra, dag: e.source_dag_id, task: e.source_task_id, group: e.asset.group }))])),
  same: ctx.triggering_asset_events === ctx.triggeringAssetEvents,
}));
export default dag({ dagId: "on_orders", schedule: [orders] }, () => { report(); });`,
  on_both: `import { EmptyOperator, and, asset, dag } from "updraft";
${ORDERS}
${CUSTOMERS}
export default dag({ dagId: "on_both", schedule: and(orders, customers) }, () => {
  new EmptyOperator({ taskId: "noop" });
});`,
  paused_on_orders: `import { EmptyOperator, asset, dag } from "updraft";
${ORDERS}
export default dag({ dagId: "paused_on_orders", schedule: [orders] }, () => {
  new EmptyOperator({ taskId: "noop" });
});`,
  bad_asset: `import { EmptyOperator, asset, dag } from "updraft";
export default dag({ dagId: "bad_asset", schedule: [asset("orders.parquet")] }, () => {
  new EmptyOperator({ taskId: "noop" });
});`,
};

beforeAll(async () => {
  t = await startTestEngine({
    name: "e2e-assets",
    files: Object.fromEntries(Object.entries(DAGS).map(([name, text]) => [`${name}.ts`, text])),
    overrides: {
      "core.executor": "LocalExecutor",
      "core.dags_are_paused_at_creation": true,
      "scheduler.scheduler_heartbeat_sec": 1,
    },
    logLevel: "warn",
  });
  database = t.database;
  for (const id of ["produce_orders", "produce_customers", "on_orders", "on_both"])
    await setDagPaused(database.db, id, false);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function runToEnd(dagId: string, runId: string): Promise<string | undefined> {
  return waitFor(`${dagId} ${runId}`, async () => {
    const state = (await getDagRun(database.db, { dagId, runId }))?.state;
    return state === "success" || state === "failed" ? state : undefined;
  });
}

async function assetRuns(dagId: string): Promise<{ run_id: string; state: string }[]> {
  const runs = await listDagRuns(database.db, { dagId, runTypes: ["asset_triggered"] });
  return runs.filter((r) => r.run_type === "asset_triggered");
}

async function trigger(dagId: string): Promise<string> {
  const run = await triggerDagRun(database.db, { dagId, conf: {} });
  return run.run_id;
}

describe("data-aware scheduling", () => {
  test("a DAG file naming a bad asset is an import error; the others are parsed", async () => {
    const errors = await database.db.selectFrom("import_error").select(["filename", "stacktrace"]).execute();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.filename).toMatch(/bad_asset\.ts$/);
    expect(errors[0]?.stacktrace).toMatch(/has no scheme/);
    const refs = await database.db
      .selectFrom("dag_schedule_asset_reference as r")
      .innerJoin("asset as a", "a.id", "r.asset_id")
      .select(["r.dag_id", "a.uri"])
      .orderBy("r.dag_id")
      .orderBy("a.uri")
      .execute();
    expect(refs).toEqual([
      { dag_id: "on_both", uri: "s3://warehouse/customers.parquet" },
      { dag_id: "on_both", uri: "s3://warehouse/orders.parquet" },
      { dag_id: "on_orders", uri: "s3://warehouse/orders.parquet" },
      { dag_id: "paused_on_orders", uri: "s3://warehouse/orders.parquet" },
    ]);
  });

  test("a producer's success triggers the consumer, whose task sees the events", async () => {
    const runId = await trigger("produce_orders");
    expect(await runToEnd("produce_orders", runId)).toBe("success");
    const events = await database.db.selectFrom("asset_event").selectAll().execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source_dag_id: "produce_orders",
      source_task_id: "load",
      source_run_id: runId,
    });
    expect(events[0]?.extra).toMatchObject({ rows: 42 });

    const run = await waitFor("on_orders run", async () => (await assetRuns("on_orders"))[0]);
    expect(run.run_id).toMatch(/^asset_triggered__/);
    expect(await runToEnd("on_orders", run.run_id)).toBe("success");
    const xcom = await database.db
      .selectFrom("xcom")
      .select("value")
      .where("dag_id", "=", "on_orders")
      .where("run_id", "=", run.run_id)
      .where("key", "=", "return_value")
      .executeTakeFirstOrThrow();
    const seen = JSON.parse(xcom.value as unknown as string) as Record<string, unknown>;
    expect(seen).toEqual({
      type: "asset_triggered",
      events: {
        "s3://warehouse/orders.parquet": [
          {
            extra: expect.objectContaining({ rows: 42 }),
            dag: "produce_orders",
            task: "load",
            group: "sales",
          },
        ],
      },
      same: true,
    });
    const linked = await database.db.selectFrom("dag_run_asset_event").selectAll().execute();
    expect(linked.map((l) => l.event_id)).toContain(events[0]?.id);
  });

  test("an and() consumer waits for both assets", async () => {
    // orders was updated above: on_both waits for customers.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await assetRuns("on_both")).toEqual([]);
    const runId = await trigger("produce_customers");
    expect(await runToEnd("produce_customers", runId)).toBe("success");
    const run = await waitFor("on_both run", async () => (await assetRuns("on_both"))[0]);
    expect(await runToEnd("on_both", run.run_id)).toBe("success");
    // Its queue was consumed: no second run without new updates.
    const queued = await database.db
      .selectFrom("asset_dag_run_queue")
      .select("asset_id")
      .where("target_dag_id", "=", "on_both")
      .execute();
    expect(queued).toEqual([]);
  });

  test("a paused consumer accumulates updates without running, and runs once unpaused", async () => {
    const queued = await database.db
      .selectFrom("asset_dag_run_queue")
      .select("asset_id")
      .where("target_dag_id", "=", "paused_on_orders")
      .execute();
    expect(queued).toHaveLength(1);
    expect(await assetRuns("paused_on_orders")).toEqual([]);
    await setDagPaused(database.db, "paused_on_orders", false);
    const run = await waitFor("paused_on_orders run", async () => (await assetRuns("paused_on_orders"))[0]);
    expect(await runToEnd("paused_on_orders", run.run_id)).toBe("success");
  });
});
