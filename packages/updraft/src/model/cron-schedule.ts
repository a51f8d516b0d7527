// A cron expression's fire times in a time zone, by Airflow's rules for clock changes: the part of
// a cron timetable (timetable.ts) that turns croner's wall-clock matches into instants.
import { Cron } from "croner";
import { UpdraftError, describeError } from "../common/errors.js";

const HOUR_MS = 3_600_000;
const later = (a: Date, b: Date): Date => (a.getTime() >= b.getTime() ? a : b);
// How far back a cron's previous fire time is searched; rarer schedules do not exist in practice.
const PREV_SEARCH_LIMIT_MS = 30 * 366 * 24 * HOUR_MS;

/**
 * Cron fire times in a time zone, strictly after / before an instant. Croner matches the pattern
 * against wall-clock time; wall-clock times become instants by Airflow's rules (pendulum with
 * `fold=1`): a wall time skipped when clocks jump forward fires as if the jump had not happened
 * yet (02:30 → 03:30), and a wall time that occurs twice fires once, at its second occurrence.
 * Schedules that fire every hour (hour field `*`) fire at both occurrences and skip wall times
 * that do not exist, so that every real hour is scheduled (Airflow's fix for the "fold hour").
 */
export class CronSchedule {
  /** The pattern over wall-clock times, encoded as if they were UTC. */
  private readonly pattern: Cron;
  private readonly everyHour: boolean;
  private readonly wallClock: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(expression: string, timezone: string, invalid: (reason: string, cause?: unknown) => Error) {
    const fields = expression.split(" ");
    if (fields.length !== 5) {
      throw invalid(
        `a cron expression has exactly 5 fields (minute hour day-of-month month day-of-week), this one has ${fields.length}`,
      );
    }
    try {
      this.pattern = new Cron(expression, { utcOffset: 0, legacyMode: true, paused: true });
    } catch (err) {
      throw invalid(describeError(err).replace(/^CronPattern: /, ""), err);
    }
    if (this.pattern.nextRun(new Date(0)) === null) throw invalid("it never fires");
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
