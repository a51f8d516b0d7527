// The warehouse example, consumer side: no timetable; it runs when warehouse_ingest's load
// updates the orders table (an asset schedule), checks what was loaded, lists the raw files kept
// in S3 and prints a short report. Same services and connections as warehouse_ingest.ts.
import { S3ListOperator, SQLCheckOperator, SQLValueCheckOperator, XComArg, asset, dag, task } from "updraft";

// The same URI as in warehouse_ingest.ts: that is what makes this DAG its consumer.
const ordersTable = asset("postgres://warehouse/public/warehouse_orders", { group: "warehouse" });

const report = task("report", (ctx, rawFiles: string[]) => {
  // The asset events that made this run, with the run of warehouse_ingest behind each.
  for (const [uri, events] of Object.entries(ctx.triggeringAssetEvents)) {
    for (const e of events)
      console.log(`${uri} updated by ${e.source_dag_id ?? "?"} / ${e.source_run_id ?? "?"}`);
  }
  console.log(`${rawFiles.length} raw file(s) kept in s3://warehouse/orders/:`);
  for (const key of rawFiles) console.log(`  ${key}`);
  return { rawFiles: rawFiles.length };
});

export default dag(
  {
    dagId: "warehouse_report",
    description: "Checks the warehouse after each load of warehouse_ingest",
    schedule: [ordersTable],
    startDate: "2026-01-01",
    catchup: false,
    tags: ["example", "warehouse"],
    isPausedUponCreation: true,
    docMd: `
Runs after each successful load of **warehouse_ingest** (asset
\`postgres://warehouse/public/warehouse_orders\`): data-quality checks in PostgreSQL, then a list
of the raw files in S3.

To run it, start the services and set the connections as warehouse_ingest's docs say, unpause
both DAGs and trigger warehouse_ingest; this DAG is not triggered by hand.
`,
  },
  () => {
    // Fails the run unless every value of the first row is truthy (Airflow's SQLCheckOperator).
    const rowsLoaded = new SQLCheckOperator({
      taskId: "orders_loaded",
      connId: "warehouse_db",
      sql: "select count(*) > 0, bool_and(amount > 0), count(distinct region) > 1 from warehouse_orders",
    });

    // No order without a region: the count must be exactly 0.
    const noOrphans = new SQLValueCheckOperator({
      taskId: "no_orders_without_region",
      connId: "warehouse_db",
      sql: "select count(*) from warehouse_orders where region is null or region = ''",
      passValue: 0,
    });

    const rawFiles = new S3ListOperator({
      taskId: "list_raw_files",
      awsConnId: "warehouse_s3",
      bucket: "warehouse",
      prefix: "orders/",
    });

    // The operator's XCom (the keys) is the report's argument, typed as what S3ListOperator pushes.
    const summary = report(new XComArg<string[]>(rawFiles));
    rowsLoaded.before(noOrphans).before(summary);
  },
);
