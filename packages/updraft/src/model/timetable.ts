import { formatDuration, parseDuration } from "../common/duration.js";
import { UpdraftError } from "../common/errors.js";
import { CronSchedule } from "./cron-schedule.js";

/**
 * A schedule as a DAG author writes it: a 5-field cron expression (`"0 6 * * *"`), a preset
 * (`"@daily"`), a duration between runs (`3_600_000` or `"1h"`), or `null` for manual runs only.
 */
export type Schedule = string | number | null;

/** The span of data a DAG run covers: `[start, end)`; both equal for a run at one instant. */
export interface DataInterval {
  readonly start: Date;
  readonly end: Date;
}

/** The next run a timetable wants: create it once `now ≥ runAfter`. */
export interface DagRunInfo {
  readonly logicalDate: Date;
  readonly dataInterval: DataInterval;
  readonly runAfter: Date;
}

/** Bounds from the DAG: `earliest` is start_date, `latest` end_date (last logical date). */
export interface TimeRestriction {
  readonly earliest: Date | null;
  readonly latest: Date | null;
  readonly catchup: boolean;
}

export interface NextDagRunInfoArgs {
  /** Data interval of the latest scheduled (not manual) run; null before the first one. */
  readonly lastAutomatedDataInterval: DataInterval | null;
  readonly restriction: TimeRestriction;
  readonly now: Date;
}

/** When automatic runs happen and which data interval each covers (Airflow 2 semantics). */
export interface Timetable {
  readonly kind: "cron" | "delta" | "once" | "none";
  /** The schedule as written (trimmed); `parseSchedule(schedule, timezone)` rebuilds this timetable. */
  readonly schedule: Schedule;
  readonly timezone: string;
  /** Short text for the UI: `"0 6 * * *"`, `"@daily"`, `"1h"`, `"@once"`, `"None"`. */
  readonly summary: string;
  /** True when the timetable creates runs repeatedly (cron and durations). */
  readonly periodic: boolean;
  /** False for `null`: the scheduler never creates runs of this DAG by itself. */
  readonly canBeScheduled: boolean;
  /** The next automatic run after the last one, or null when there is none. */
  nextDagRunInfo(args: NextDagRunInfoArgs): DagRunInfo | null;
  /** The data interval of a run triggered by hand at `runAfter`. */
  inferManualDataInterval(runAfter: Date): DataInterval;
}

/** The presets Airflow 2 accepts, with the cron expression each stands for. */
export const SCHEDULE_PRESETS = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@quarterly": "0 0 1 */3 *",
  "@yearly": "0 0 1 1 *",
} as const;

const VALID_FORMS =
  'Use a 5-field cron expression ("0 6 * * *"), a preset (@once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly), a duration between runs (3600000 or "1h", "30m"), or null for manual runs only.';

/**
 * Throws INVALID_TIMEZONE unless `tz` is an IANA time zone name that this runtime knows.
 * Returns the name as given (trimmed).
 */
const validTimezones = new Set<string>(["UTC"]);

export function validateTimezone(tz: string): string {
  const name = typeof tz === "string" ? tz.trim() : "";
  if (validTimezones.has(name)) return name;
  if (name !== "") {
    try {
      // Building a formatter is the only portable check, and it is slow: remember the answer.
      new Intl.DateTimeFormat("en-US", { timeZone: name });
      validTimezones.add(name);
      return name;
    } catch {
      // reported below
    }
  }
  throw new UpdraftError(
    "INVALID_TIMEZONE",
    `Time zone ${JSON.stringify(tz)} is not an IANA time zone name. Use a name like "UTC", "Europe/Berlin" or "America/New_York".`,
    { details: { timezone: tz } },
  );
}

/**
 * Builds the timetable for a DAG's schedule in its time zone, or throws INVALID_SCHEDULE /
 * INVALID_TIMEZONE naming the value and the valid forms.
 *
 * @example
 * ```ts
 * const tt = parseSchedule("0 6 * * *", "Europe/Berlin");
 * tt.inferManualDataInterval(new Date("2024-05-02T10:00:00Z")); // [05-01 06:00, 05-02 06:00) Berlin
 * ```
 */
export function parseSchedule(schedule: Schedule, timezone = "UTC"): Timetable {
  const tz = validateTimezone(timezone);
  if (schedule === null) return nullTimetable(tz);
  if (typeof schedule === "number") return deltaTimetable(schedule, parseDelta(schedule, schedule), tz);
  if (typeof schedule !== "string") throw invalid(schedule, "it is neither a string, a number nor null");
  const text = schedule.trim().replace(/\s+/g, " ");
  if (text === "") throw invalid(schedule, "it is empty");
  if (text === "@once") return onceTimetable(tz);
  if (text === "@continuous") {
    throw invalid(schedule, 'continuous runs are not supported; use a short cron or duration such as "1m"');
  }
  if (text.startsWith("@")) {
    const expression = (SCHEDULE_PRESETS as Record<string, string>)[text];
    if (expression === undefined) throw invalid(schedule, `"${text}" is not a known preset`);
    return cronTimetable(text, text, new CronSchedule(expression, tz, (r, c) => invalid(schedule, r, c)), tz);
  }
  if (text.includes(" "))
    return cronTimetable(text, text, new CronSchedule(text, tz, (r, c) => invalid(schedule, r, c)), tz);
  return deltaTimetable(text, parseDelta(text, schedule), tz);
}

function invalid(schedule: unknown, reason: string, cause?: unknown): UpdraftError {
  return new UpdraftError(
    "INVALID_SCHEDULE",
    `Schedule ${JSON.stringify(schedule)} is not valid: ${reason}. ${VALID_FORMS}`,
    {
      cause,
      details: { schedule },
    },
  );
}

function parseDelta(value: string | number, schedule: Schedule): number {
  let ms: number;
  try {
    ms = parseDuration(value, "schedule");
  } catch (err) {
    throw invalid(schedule, "it is neither a cron expression, a preset nor a duration", err);
  }
  if (ms <= 0) throw invalid(schedule, "a duration between runs must be longer than 0");
  return ms;
}

const exact = (at: Date): DataInterval => ({ start: at, end: at });
const runAt = (at: Date): DagRunInfo => ({ logicalDate: at, dataInterval: exact(at), runAfter: at });
const runFor = (start: Date, end: Date): DagRunInfo => ({
  logicalDate: start,
  dataInterval: { start, end },
  runAfter: end,
});
const later = (a: Date, b: Date): Date => (a.getTime() >= b.getTime() ? a : b);

function nullTimetable(timezone: string): Timetable {
  return {
    kind: "none",
    schedule: null,
    timezone,
    summary: "None",
    periodic: false,
    canBeScheduled: false,
    nextDagRunInfo: () => null,
    inferManualDataInterval: exact,
  };
}

function onceTimetable(timezone: string): Timetable {
  return {
    kind: "once",
    schedule: "@once",
    timezone,
    summary: "@once",
    periodic: false,
    canBeScheduled: true,
    // Runs once at start_date, whatever catchup says (as Airflow has since 1.10).
    nextDagRunInfo({ lastAutomatedDataInterval, restriction }) {
      if (lastAutomatedDataInterval !== null || restriction.earliest === null) return null;
      const at = restriction.earliest;
      if (restriction.latest !== null && at > restriction.latest) return null;
      return runAt(at);
    },
    inferManualDataInterval: exact,
  };
}

/** A fixed delta between runs, anchored at start_date (Airflow's DeltaDataIntervalTimetable). */
function deltaTimetable(schedule: string | number, deltaMs: number, timezone: string): Timetable {
  const plus = (d: Date, n: number): Date => new Date(d.getTime() + n * deltaMs);
  return {
    kind: "delta",
    schedule,
    timezone,
    summary: formatDuration(deltaMs),
    periodic: true,
    canBeScheduled: true,
    nextDagRunInfo({ lastAutomatedDataInterval: last, restriction, now }) {
      let earliest = restriction.earliest;
      if (!restriction.catchup) {
        const latestStart = plus(now, -1);
        earliest = earliest === null ? latestStart : later(latestStart, earliest);
      }
      let start: Date;
      if (last === null) {
        if (earliest === null) return null;
        start = earliest;
      } else {
        start = earliest === null ? last.end : later(last.end, earliest);
      }
      if (restriction.latest !== null && start > restriction.latest) return null;
      return runFor(start, plus(start, 1));
    },
    inferManualDataInterval: (runAfter) => ({ start: plus(runAfter, -1), end: runAfter }),
  };
}

/** Data intervals between consecutive cron fire times (Airflow's CronDataIntervalTimetable). */
function cronTimetable(schedule: string, summary: string, cron: CronSchedule, timezone: string): Timetable {
  // The scheduler and backfills ask again and again with the same start_date.
  let memo: { from: number; aligned: Date } | null = null;
  const alignStart = (earliest: Date): Date => {
    if (memo?.from !== earliest.getTime())
      memo = { from: earliest.getTime(), aligned: cron.alignToNext(earliest) };
    return memo.aligned;
  };
  return {
    kind: "cron",
    schedule,
    timezone,
    summary,
    periodic: true,
    canBeScheduled: true,
    nextDagRunInfo({ lastAutomatedDataInterval: last, restriction, now }) {
      let earliest = restriction.earliest;
      if (!restriction.catchup) earliest = cron.skipToLatest(earliest, now);
      else if (earliest !== null) earliest = alignStart(earliest);
      return cronNextInfo(cron, last, earliest, restriction.latest);
    },
    inferManualDataInterval(runAfter) {
      // The last complete interval: a daily DAG triggered at 01:00 on the 25th covers the 24th.
      const end = cron.alignToPrev(runAfter);
      return { start: cron.prev(end), end };
    },
  };
}

function cronNextInfo(
  cron: CronSchedule,
  last: DataInterval | null,
  alignedEarliest: Date | null,
  latest: Date | null,
): DagRunInfo | null {
  let start: Date;
  if (last === null) {
    if (alignedEarliest === null) return null;
    start = alignedEarliest;
  } else {
    // Aligning matters when the schedule changed since the last run.
    const lastEnd = cron.alignToPrev(last.end);
    start = alignedEarliest === null ? lastEnd : later(lastEnd, alignedEarliest);
  }
  if (latest !== null && start > latest) return null;
  return runFor(start, cron.next(start));
}

/**
 * Every automatic run whose logical date falls in `[from, to]`, as a backfill creates them
 * (catchup on, aligned to the schedule). Throws TOO_MANY_DAG_RUNS past `maxRuns` (default 10,000).
 */
export function dataIntervalsBetween(
  timetable: Timetable,
  from: Date,
  to: Date,
  opts: { readonly maxRuns?: number } = {},
): DagRunInfo[] {
  const maxRuns = opts.maxRuns ?? 10_000;
  const restriction: TimeRestriction = { earliest: from, latest: to, catchup: true };
  const out: DagRunInfo[] = [];
  let info = timetable.nextDagRunInfo({ lastAutomatedDataInterval: null, restriction, now: from });
  while (info !== null) {
    if (out.length >= maxRuns) {
      throw new UpdraftError(
        "TOO_MANY_DAG_RUNS",
        `Between ${from.toISOString()} and ${to.toISOString()}, schedule "${timetable.summary}" has more than ${maxRuns} runs. Narrow the date range or raise the limit.`,
        { details: { from: from.toISOString(), to: to.toISOString(), max_runs: maxRuns } },
      );
    }
    out.push(info);
    info = timetable.nextDagRunInfo({ lastAutomatedDataInterval: info.dataInterval, restriction, now: from });
  }
  return out;
}
