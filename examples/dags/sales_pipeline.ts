// Daily sales pipeline: extract → validate → transform → load → notify, passing data as XCom.
// Port of the seed's dags/sales_pipeline.py with the same ids, schedule and arguments.
import { dag, task } from "updraft";

interface SaleRecord {
  id: number;
  amount: number;
  city: string;
  revenue_category?: "high" | "medium" | "low";
}

const extractSalesData = task("extract_sales_data", (ctx) => {
  console.log(`Extracting sales data for ${ctx.ds}`);
  const records: SaleRecord[] = Array.from({ length: 1000 }, (_, i) => ({
    id: i,
    amount: 100 + i * 10,
    city: "NYC",
  }));
  return JSON.stringify(records);
});

const validateData = task("validate_data", (_ctx, rawData: string) => {
  const records = JSON.parse(rawData) as SaleRecord[];
  const total = records.length;
  const valid = records.filter((r) => r.amount > 0).length;
  const ratio = valid / total;
  console.log(`Validation: ${valid}/${total} records valid (${(ratio * 100).toFixed(1)}%)`);
  if (ratio < 0.95) throw new Error(`Data quality below threshold: ${(ratio * 100).toFixed(1)}%`);
  return rawData;
});

const transformData = task("transform_data", (_ctx, validatedData: string) => {
  const records = JSON.parse(validatedData) as SaleRecord[];
  for (const record of records) {
    record.revenue_category = record.amount > 500 ? "high" : record.amount > 100 ? "medium" : "low";
  }
  console.log(`Transformed ${records.length} records`);
  return JSON.stringify(records);
});

const loadToWarehouse = task("load_to_warehouse", (_ctx, transformedData: string) => {
  const records = JSON.parse(transformedData) as SaleRecord[];
  console.log(`Loading ${records.length} records to warehouse`);
  // In production: write to PostgreSQL, BigQuery, Redshift, etc.
  return records.length;
});

const sendNotification = task("send_notification", (ctx, recordCount: number) => {
  const message = `Sales pipeline completed for ${ctx.ds}. Processed ${recordCount} records.`;
  console.log(`Notification: ${message}`);
});

export default dag(
  {
    dagId: "sales_pipeline",
    description: "Daily sales data pipeline: extract, transform, load",
    schedule: "0 6 * * *", // Every day at 6 AM UTC
    startDate: "2026-01-01",
    catchup: false, // Don't backfill missed runs
    maxActiveRuns: 1, // Only one run at a time
    tags: ["sales", "production"],
    defaultArgs: {
      owner: "data-engineering",
      retries: 3,
      retryDelay: "5m",
      retryExponentialBackoff: true,
      maxRetryDelay: "30m",
      emailOnFailure: true,
      email: ["data-team@example.com"],
    },
  },
  () => {
    const raw = extractSalesData();
    const validated = validateData(raw);
    const transformed = transformData(validated);
    const count = loadToWarehouse(transformed);
    sendNotification(count);
  },
);
