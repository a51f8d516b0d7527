// The Gantt's rows from the API's tries: one row per task instance try, in the Grid's task order,
// each with its queued and running spans in ms (an unfinished span ends "now").
import type { components } from "updraft/client";

export type GanttTry = components["schemas"]["GanttData"]["tries"][number];

export interface GanttRow {
  key: string;
  task_id: string;
  map_index: number;
  try_number: number;
  state: string | null;
  /** When it was queued (ms), or null if it never was. */
  queued: number | null;
  start: number | null;
  /** The end, or now for a try that has not ended. */
  end: number | null;
  ended: boolean;
  raw: GanttTry;
}

const ms = (iso: string | null): number | null => (iso === null ? null : new Date(iso).getTime());

/** States in which a try's bar still grows. */
export const LIVE_STATES = new Set([
  "running",
  "queued",
  "scheduled",
  "restarting",
  "deferred",
  "up_for_reschedule",
]);

export function ganttRows(tries: readonly GanttTry[], taskOrder: readonly string[], now: number): GanttRow[] {
  const rank = new Map(taskOrder.map((t, i) => [t, i]));
  const sorted = [...tries].sort(
    (a, b) =>
      (rank.get(a.task_id) ?? 1e9) - (rank.get(b.task_id) ?? 1e9) ||
      a.task_id.localeCompare(b.task_id) ||
      a.map_index - b.map_index ||
      a.try_number - b.try_number,
  );
  return sorted.map((t) => {
    const start = ms(t.start_date);
    const endMs = ms(t.end_date);
    const live = endMs === null && LIVE_STATES.has(t.state ?? "");
    return {
      key: `${t.task_id}\u0000${t.map_index}\u0000${t.try_number}`,
      task_id: t.task_id,
      map_index: t.map_index,
      try_number: t.try_number,
      state: t.state,
      queued: ms(t.queued_when),
      start,
      end: endMs ?? (live && (start !== null || t.queued_when !== null) ? now : null),
      ended: endMs !== null,
      raw: t,
    };
  });
}

/**
 * The time range the rows cover (ms), padded so no bar touches the edges, and its origin (the first
 * instant of any row); null if no row has times.
 */
export function ganttRange(rows: readonly GanttRow[]): [number, number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    for (const v of [r.queued, r.start, r.end]) {
      if (v === null) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!Number.isFinite(lo)) return null;
  const pad = Math.max(20, (hi - lo) * 0.02);
  return [lo - pad, hi + pad, lo];
}
