// The warehouse example, producer side: wait for the orders API → fetch a day of orders → keep
// the raw answer in S3 → load it into PostgreSQL → record that the orders table changed.
// It talks to three local services that `npm run example-services` starts, through three
// connections that script prints as UPDRAFT_CONN_* variables (docs/operators.md, "Connections").
// Its consumer is warehouse_report.ts, which runs whenever this DAG's load succeeds.
import {
  HttpOperator,
  HttpSensor,
  S3CreateObjectOperator,
  SQLExecuteQueryOperator,
  asset,
  dag,
} from "updraft";

// The asset names the table, not a connection: warehouse_report.ts declares the same URI, and the
// URI is what ties the two DAGs together (docs/assets.md).
const ordersTable = asset("postgres://warehouse/public/warehouse_orders", { group: "warehouse" });

/** The raw answer of one run, keyed by day and by the run's own timestamp so reruns do not collide. */
const RAW_KEY = "orders/{{ ds }}/{{ ts_nodash }}.json";

export default dag(
  {
    dagId: "warehouse_ingest",
    description: "Orders API → S3 → PostgreSQL, then an asset event for warehouse_report",
    schedule: null,
    startDate: "2026-01-01",
    catchup: false,
    tags: ["example", "warehouse"],
    // It needs services a fresh `npm start` does not have: stay paused until the user starts them.
    isPausedUponCreation: true,
    defaultArgs: { retries: 1, retryDelay: "10s" },
    docMd: `
Loads a day of orders from the local orders API into the warehouse, keeping the raw answer in S3.

**To run it** (README, "The warehouse example"):

1. In one terminal: \`npm run example-services\` (an S3-compatible store, the orders API, and
   PostgreSQL on 127.0.0.1:5432). It prints three \`export UPDRAFT_CONN_...\` lines.
2. In another: paste those lines, then \`npm start\`.
3. Unpause **warehouse_ingest** and **warehouse_report**, and trigger warehouse_ingest.

Connections: \`orders_api\` (http), \`warehouse_s3\` (aws), \`warehouse_db\` (postgres).
`,
  },
  () => {
    // Deferrable: the wait happens in the triggerer, so no worker slot is held while the API is down.
    const apiReady = new HttpSensor({
      taskId: "wait_for_orders_api",
      httpConnId: "orders_api",
      endpoint: "/ready",
      deferrable: true,
      pokeInterval: "5s",
      timeout: "10m",
    });

    // The body text is this task's XCom: the next two tasks read it with xcom_pull.
    const fetchOrders = new HttpOperator({
      taskId: "fetch_orders",
      httpConnId: "orders_api",
      endpoint: "/orders",
      method: "GET",
      data: { day: "{{ ds }}" },
      responseCheck: (r) => Array.isArray(r.json()),
    });

    const keepRaw = new S3CreateObjectOperator({
      taskId: "store_raw_orders",
      awsConnId: "warehouse_s3",
      s3Bucket: "warehouse",
      s3Key: RAW_KEY,
      data: "{{ ti.xcom_pull(task_ids='fetch_orders') }}",
    });

    // Idempotent, so every run may start with it. (Parameters go to every statement of a
    // list, so the statement without parameters is its own task.)
    const createTable = new SQLExecuteQueryOperator({
      taskId: "create_orders_table",
      connId: "warehouse_db",
      sql: `create table if not exists warehouse_orders (
              order_id text primary key,
              day date not null,
              region text not null,
              amount numeric(10, 2) not null,
              loaded_at timestamptz not null default now()
            )`,
      doXcomPush: false,
    });

    // The JSON answer becomes rows inside PostgreSQL; a rerun of a day replaces its rows instead
    // of failing on the primary key. Its success records an event for ordersTable.
    const load = new SQLExecuteQueryOperator({
      taskId: "load_orders",
      connId: "warehouse_db",
      sql: `insert into warehouse_orders (order_id, day, region, amount)
            select order_id, day, region, amount
            from json_populate_recordset(null::warehouse_orders, $1::json)
            on conflict (order_id) do update
              set region = excluded.region, amount = excluded.amount, loaded_at = now()`,
      parameters: ["{{ ti.xcom_pull(task_ids='fetch_orders') }}"],
      outlets: [ordersTable],
      doXcomPush: false,
    });

    // The load waits for the raw copy too: its asset event tells warehouse_report that both
    // the table and the bucket hold this run's orders.
    apiReady.before(fetchOrders);
    fetchOrders.before([keepRaw, createTable]);
    keepRaw.before(load);
    createTable.before(load);
  },
);
