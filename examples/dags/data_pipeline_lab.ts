// The lab exercise: generate → validate → aggregate → notify, triggered by hand.
// Port of the seed's data_pipeline_lab (same ids and arguments). Python's random.seed(42) is
// replaced by a small seeded generator, so the numbers differ from the Python version but are
// the same on every run.
import { dag, task } from "updraft";

interface DataRecord {
  id: number;
  value: number;
  category: "A" | "B" | "C";
}
type Aggregation = Record<string, { total: number; count: number; avg: number }>;

/** mulberry32: a tiny deterministic PRNG, enough for sample data. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

const generateData = task("generate_data", () => {
  const random = seededRandom(42);
  const categories = ["A", "B", "C"] as const;
  const records: DataRecord[] = Array.from({ length: 500 }, (_, i) => ({
    id: i,
    value: round2(10 + random() * 990),
    category: categories[Math.floor(random() * 3)] ?? "A",
  }));
  console.log(`Generated ${records.length} records`);
  return JSON.stringify(records);
});

const validate = task("validate", (_ctx, raw: string) => {
  const records = JSON.parse(raw) as DataRecord[];
  const valid = records.filter((r) => r.value > 0);
  console.log(`Validation: ${valid.length}/${records.length} records valid`);
  return JSON.stringify(valid);
});

const aggregate = task("aggregate", (_ctx, validated: string) => {
  const records = JSON.parse(validated) as DataRecord[];
  const totals = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const r of records) {
    totals.set(r.category, (totals.get(r.category) ?? 0) + r.value);
    counts.set(r.category, (counts.get(r.category) ?? 0) + 1);
  }
  const result: Aggregation = {};
  for (const [cat, total] of totals) {
    const count = counts.get(cat) ?? 0;
    result[cat] = { total: round2(total), count, avg: round2(total / count) };
  }
  console.log(`Aggregation results: ${JSON.stringify(result, null, 2)}`);
  return JSON.stringify(result);
});

const notify = task("notify", (_ctx, results: string) => {
  const data = JSON.parse(results) as Aggregation;
  console.log("=".repeat(50));
  console.log("PIPELINE COMPLETE - NOTIFICATION");
  console.log("=".repeat(50));
  for (const [cat, stats] of Object.entries(data)) {
    console.log(
      `  Category ${cat}: ${stats.count} records, total=$${stats.total.toFixed(2)}, avg=$${stats.avg.toFixed(2)}`,
    );
  }
  console.log("=".repeat(50));
  console.log("Notification sent successfully!");
});

export default dag(
  {
    dagId: "data_pipeline_lab",
    description: "Lab exercise: data pipeline with notifications",
    schedule: null,
    startDate: "2026-01-01",
    catchup: false,
    tags: ["lab", "data-engineering"],
    defaultArgs: { retries: 1, retryDelay: "1m" },
  },
  () => {
    const raw = generateData();
    const validated = validate(raw);
    const aggregated = aggregate(validated);
    notify(aggregated);
  },
);
