// A DAG's schedule in words, from the API's timetable_summary (cron, "@daily", "Asset",
// "Asset or …") and timetable_description (for a DAG scheduled on assets, its condition as
// `updraft dags list` prints it: "Asset: postgres://warehouse/public/orders").

/** "manual only", the description with the summary when they differ, or the asset condition alone. */
export function scheduleText(description: string | null, summary: string | null): string {
  if (summary === null || summary === "None") return "manual only";
  if (description === null || description === summary) return summary;
  // "Asset: a or @daily" already says all that its summary "Asset or @daily" does.
  if (summary.startsWith("Asset")) return description;
  return `${description} (${summary})`;
}
