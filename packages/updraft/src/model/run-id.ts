// Run ids in Airflow's format (`DagRun.generate_run_id`): `<run_type>__<logical date>`, the date as
// Python's `datetime.isoformat()` prints an aware UTC datetime. Users grep for these ids and tools
// parse them, so they must match Airflow's byte for byte.
import type { DagRunType } from "./states.js";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function utcParts(d: Date): { date: string; time: string; fraction: string } {
  const ms = d.getUTCMilliseconds();
  return {
    date: `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    // Python prints microseconds only when they are not zero; a Date holds milliseconds.
    fraction: ms === 0 ? "" : `.${pad(ms, 3)}000`,
  };
}

/** `2024-01-03T00:00:00+00:00` (or `…00.250000+00:00`): Python's `isoformat()` of a UTC datetime. */
export function pythonIsoformat(d: Date): string {
  const p = utcParts(d);
  return `${p.date}T${p.time}${p.fraction}+00:00`;
}

/** `2024-01-03 00:00:00+00:00`: Python's `str()` of a UTC datetime (what Airflow hashes and logs). */
export function pythonStr(d: Date): string {
  const p = utcParts(d);
  return `${p.date} ${p.time}${p.fraction}+00:00`;
}

/**
 * The run id Airflow generates for a run of `runType` at `logicalDate`.
 *
 * @example
 * ```ts
 * generateRunId("scheduled", new Date("2024-01-03T00:00:00Z")); // "scheduled__2024-01-03T00:00:00+00:00"
 * ```
 */
export function generateRunId(runType: DagRunType, logicalDate: Date): string {
  return `${runType}__${pythonIsoformat(logicalDate)}`;
}
