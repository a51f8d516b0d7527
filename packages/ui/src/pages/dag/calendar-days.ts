// The Calendar's days: the API's counts per UTC day and state folded into one outcome per day
// (what colour and symbol its cell gets), and the weeks of a year laid out Monday to Sunday.

export interface DayCounts {
  /** YYYY-MM-DD (UTC). */
  date: string;
  counts: Record<string, number>;
  total: number;
  outcome: Outcome;
}

export type Outcome = "none" | "success" | "failed" | "mixed" | "running" | "planned";

export const OUTCOMES: { id: Outcome; label: string; symbol: string }[] = [
  { id: "success", label: "all succeeded", symbol: "" },
  { id: "failed", label: "failed", symbol: "✗" },
  { id: "mixed", label: "some failed", symbol: "±" },
  { id: "running", label: "running", symbol: "▶" },
  { id: "planned", label: "queued", symbol: "Q" },
  { id: "none", label: "no runs", symbol: "" },
];

export function outcomeOf(counts: Record<string, number>): Outcome {
  const n = (s: string) => counts[s] ?? 0;
  if (n("failed") > 0) return n("success") > 0 ? "mixed" : "failed";
  if (n("running") > 0) return "running";
  if (n("queued") > 0) return "planned";
  if (n("success") > 0) return "success";
  return "none";
}

/** Per day of the API's answer (dates are the UTC day's start). */
export function foldDays(
  rows: readonly { date: string; state: string; count: number }[],
): Map<string, DayCounts> {
  const days = new Map<string, DayCounts>();
  for (const r of rows) {
    const date = r.date.slice(0, 10);
    let d = days.get(date);
    if (d === undefined) {
      d = { date, counts: {}, total: 0, outcome: "none" };
      days.set(date, d);
    }
    d.counts[r.state] = (d.counts[r.state] ?? 0) + r.count;
    d.total += r.count;
  }
  for (const d of days.values()) d.outcome = outcomeOf(d.counts);
  return days;
}

/** YYYY-MM-DD of a UTC instant. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const DAY_MS = 86_400_000;

/**
 * The year's days as week columns (Monday first): each column 7 entries, null before 1 January and
 * after 31 December.
 */
export function yearWeeks(year: number): (string | null)[][] {
  const first = Date.UTC(year, 0, 1);
  const last = Date.UTC(year, 11, 31);
  const mondayOffset = (new Date(first).getUTCDay() + 6) % 7;
  const weeks: (string | null)[][] = [];
  for (let t = first - mondayOffset * DAY_MS; t <= last; t += 7 * DAY_MS) {
    const week: (string | null)[] = [];
    for (let i = 0; i < 7; i++) {
      const d = t + i * DAY_MS;
      week.push(d < first || d > last ? null : dayOf(d));
    }
    weeks.push(week);
  }
  return weeks;
}

/** "2 success, 1 failed" in a fixed order. */
export function countsText(counts: Record<string, number>): string {
  const order = ["success", "failed", "running", "queued"];
  const keys = [
    ...order.filter((k) => k in counts),
    ...Object.keys(counts).filter((k) => !order.includes(k)),
  ];
  return keys.map((k) => `${counts[k]} ${k}`).join(", ");
}
