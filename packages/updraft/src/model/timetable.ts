import { Cron } from "croner";
import { formatDuration, parseDuration } from "../common/duration.js";
import { UpdraftError, describeError } from "../common/errors.js";

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

const HOUR_MS = 3_600_000;
// How far back a cron's previous fire time is searched; rarer schedules do not exist in practice.
const PREV_SEARCH_LIMIT_MS = 30 * 366 * 24 * HOUR_MS;

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
    return cronTimetable(text, text, new CronSchedule(expression, tz, schedule), tz);
  }
  if (text.includes(" ")) return cronTimetable(text, text, new CronSchedule(text, tz, schedule), tz);
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

/**
 * Cron fire times in a time zone, strictly after / before an instant. Croner matches the pattern
 * against wall-clock time; wall-clock times become instants by Airflow's rules (pendulum with
 * `fold=1`): a wall time skipped when clocks jump forward fires as if the jump had not happened
 * yet (02:30 → 03:30), and a wall time that occurs twice fires once, at its second occurrence.
 * Schedules that fire every hour (hour field `*`) fire at both occurrences and skip wall times
 * that do not exist, so that every real hour is scheduled (Airflow's fix for the "fold hour").
 */
class CronSchedule {
  /** The pattern over wall-clock times, encoded as if they were UTC. */
  private readonly pattern: Cron;
  private readonly everyHour: boolean;
  private readonly wallClock: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(expression: string, timezone: string, schedule: Schedule) {
    const fields = expression.split(" ");
    if (fields.length !== 5) {
      throw invalid(
        schedule,
        `a cron expression has exactly 5 fields (minute hour day-of-month month day-of-week), this one has ${fields.length}`,
      );
    }
    try {
      this.pattern = new Cron(expression, { utcOffset: 0, legacyMode: true, paused: true });
    } catch (err) {
      throw invalid(schedule, describeError(err).replace(/^CronPattern: /, ""), err);
    }
    if (this.pattern.nextRun(new Date(0)) === null) throw invalid(schedule, "it never fires");
    this.everyHour = ["*", "*/1", "0-23", "0-23/1"].includes(fields[1] ?? "");
    this.wallClock = wallClockFormat(timezone);
  }

  next(t: Date): Date {
    const tMs = t.getTime();
    const offset = this.offsetAt(tMs);
    // Near a DST change, wall-clock order and time order differ by up to the shift: look that
    // far around and keep the earliest instant after t.
    const shift = this.shiftNear(tMs, offset);
    let best: number | null = null;
    let bestWall = 0;
    for (
      let w = this.pattern.nextRun(new Date(tMs + offset - shift - 1));
      w !== null;
      w = this.pattern.nextRun(w)
    ) {
      const wall = w.getTime();
      if (best !== null && wall > bestWall + shift) break;
      for (const at of this.instantsOf(wall)) {
        if (at > tMs && (best === null || at < best)) [best, bestWall] = [at, wall];
      }
      if (best !== null && shift === 0) break;
    }
    if (best === null)
      throw new UpdraftError(
        "INVALID_SCHEDULE",
        `The cron schedule has no fire time after ${t.toISOString()}.`,
      );
    return new Date(best);
  }

  prev(t: Date): Date {
    const tMs = t.getTime();
    const offset = this.offsetAt(tMs);
    const shift = this.shiftNear(tMs, offset);
    let best: number | null = null;
    let bestWall = 0;
    for (
      let w = previousFire(this.pattern, tMs + offset + shift + 1);
      w !== null;
      w = previousFire(this.pattern, w)
    ) {
      const wall = w.getTime();
      if (best !== null && wall < bestWall - shift) break;
      for (const at of this.instantsOf(wall)) {
        if (at < tMs && (best === null || at > best)) [best, bestWall] = [at, wall];
      }
      if (best !== null && shift === 0) break;
    }
    if (best === null)
      throw new UpdraftError(
        "INVALID_SCHEDULE",
        `The cron schedule has no fire time in the 30 years before ${t.toISOString()}.`,
      );
    return new Date(best);
  }

  /** `t` when it is a fire time, else the next fire time. */
  alignToNext(t: Date): Date {
    const next = this.next(t);
    return this.prev(next).getTime() === t.getTime() ? t : next;
  }

  /** `t` when it is a fire time, else the previous fire time. */
  alignToPrev(t: Date): Date {
    const prev = this.prev(t);
    return this.next(prev).getTime() === t.getTime() ? t : prev;
  }

  /** With catchup off: the start of the latest complete interval before `now`, not before start_date. */
  skipToLatest(earliest: Date | null, now: Date): Date {
    const lastStart = this.prev(now);
    const nextStart = this.next(lastStart);
    // On a boundary, [lastStart, now) has just completed; between boundaries, the one before.
    const start = nextStart.getTime() === now.getTime() ? lastStart : this.prev(lastStart);
    return earliest === null ? start : later(start, this.alignToNext(earliest));
  }

  /** The instants at which a matching wall-clock time (encoded as UTC) fires, by the rules above. */
  private instantsOf(wall: number): number[] {
    const before = this.offsetAt(wall - 24 * HOUR_MS);
    const after = this.offsetAt(wall + 24 * HOUR_MS);
    const real = (before === after ? [wall - before] : [wall - before, wall - after]).filter(
      (at) => this.offsetAt(at) === wall - at,
    );
    if (this.everyHour) return real;
    return real.length === 0 ? [wall - before] : [Math.max(...real)];
  }

  /** How far the UTC offset changes within three hours of `at` (0 almost always). */
  private shiftNear(at: number, offset: number): number {
    const left = this.offsetAt(at - 3 * HOUR_MS);
    const right = this.offsetAt(at + 3 * HOUR_MS);
    return Math.max(Math.abs(left - offset), Math.abs(right - offset), Math.abs(left - right));
  }

  /** The zone's UTC offset at an instant, cached per quarter hour (offsets change on those). */
  private offsetAt(at: number): number {
    const key = Math.floor(at / 900_000);
    let offset = this.offsets.get(key);
    if (offset === undefined) {
      const bucket = new Date(key * 900_000);
      offset = toWallClock(this.wallClock, bucket).getTime() - bucket.getTime();
      if (this.offsets.size >= 50_000) this.offsets.clear();
      this.offsets.set(key, offset);
    }
    return offset;
  }
}

/** The last fire time strictly before `before` (in the pattern's own UTC encoding), or null. */
function previousFire(cron: Cron, before: number | Date): Date | null {
  const tMs = typeof before === "number" ? before : before.getTime();
  // Croner only searches forward: scan a window before t, sized from the spacing of the next
  // fires, and double it until it holds a fire time.
  let window = 60_000;
  const n1 = cron.nextRun(new Date(tMs));
  const n2 = n1 === null ? null : cron.nextRun(n1);
  if (n1 !== null && n2 !== null) window = Math.max(window, 2 * (n2.getTime() - n1.getTime()));
  for (; window <= 2 * PREV_SEARCH_LIMIT_MS; window *= 2) {
    let last: Date | null = null;
    for (
      let f = cron.nextRun(new Date(tMs - window - 1));
      f !== null && f.getTime() < tMs;
      f = cron.nextRun(f)
    ) {
      last = f;
    }
    if (last !== null) return last;
  }
  return null;
}

const wallClockFormats = new Map<string, Intl.DateTimeFormat>();

function wallClockFormat(timezone: string): Intl.DateTimeFormat {
  let fmt = wallClockFormats.get(timezone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    wallClockFormats.set(timezone, fmt);
  }
  return fmt;
}

/** The wall-clock time of `t` in the format's zone, as if that wall-clock time were UTC. */
function toWallClock(fmt: Intl.DateTimeFormat, t: Date): Date {
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(t)) if (part.type !== "literal") p[part.type] = Number(part.value);
  const utc = Date.UTC(
    p.year ?? 1970,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return new Date(utc + t.getUTCMilliseconds());
}
