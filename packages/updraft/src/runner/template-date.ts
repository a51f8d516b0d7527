// The dates and durations templates work with, shaped like what Airflow hands Jinja: pendulum
// DateTimes for the context dates (`logical_date.add(days=1)`, `.strftime`, `.isoformat()`), Python
// datetimes for `macros.datetime(…)` (naive: printed without an offset), and `macros.timedelta`.
// nunjucks has no operator overloading; templates.ts rewrites `+` and `-` to pyAdd/pySub so that
// `logical_date - macros.timedelta(days=1)` and `(end - start).total_seconds()` work as in Python.
// Limits, against Python: `*`, `/` and `//` on timedeltas and unary `-td` are not supported;
// `==` between two dates compares identity (use `a.timestamp() == b.timestamp()`; `<` and `>` work);
// dates hold milliseconds; everything is UTC (no tzinfo argument, `now()` is the UTC wall clock).
import { UpdraftError } from "../common/errors.js";
import { strftime, strptime, toDs, toTs } from "./dates.js";
import { diffForHumans } from "./humanize.js";

const US_PER_DAY = 86_400_000_000;
const pad = (n: number, width = 2) => String(Math.trunc(n)).padStart(width, "0");

/** nunjucks passes `f(a, k=1)` as `f(a, { k: 1, __keywords: true })`. */
export function splitArgs(args: readonly unknown[]): {
  positional: unknown[];
  kwargs: Record<string, unknown>;
} {
  const last = args[args.length - 1];
  if (last !== null && typeof last === "object" && (last as { __keywords?: unknown }).__keywords === true) {
    const { __keywords: _, ...kwargs } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), kwargs };
  }
  return { positional: [...args], kwargs: {} };
}

function badArgument(what: string, message: string): UpdraftError {
  return new UpdraftError("INVALID_MACRO_ARGUMENT", `${what}: ${message}`);
}

function numberArg(what: string, name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw badArgument(what, `${name} must be a number, got ${JSON.stringify(v) ?? String(v)}.`);
  return v;
}

const TIMEDELTA_UNITS: readonly (readonly [string, number])[] = [
  ["days", US_PER_DAY],
  ["seconds", 1_000_000],
  ["microseconds", 1],
  ["milliseconds", 1000],
  ["minutes", 60_000_000],
  ["hours", 3_600_000_000],
  ["weeks", 7 * US_PER_DAY],
];

/** Python's `datetime.timedelta`, held as whole microseconds. */
export class TemplateTimedelta {
  constructor(readonly totalMicroseconds: number) {}

  /** `macros.timedelta(days=1, hours=2)`, or positionally as Python's (days, seconds, microseconds, …). */
  static of(...args: unknown[]): TemplateTimedelta {
    const { positional, kwargs } = splitArgs(args);
    const what = "macros.timedelta";
    if (positional.length > TIMEDELTA_UNITS.length)
      throw badArgument(what, `takes at most ${TIMEDELTA_UNITS.length} arguments.`);
    let us = 0;
    positional.forEach((v, i) => {
      const unit = TIMEDELTA_UNITS[i];
      if (unit !== undefined) us += numberArg(what, unit[0], v) * unit[1];
    });
    for (const [k, v] of Object.entries(kwargs)) {
      const unit = TIMEDELTA_UNITS.find(([name]) => name === k);
      if (unit === undefined)
        throw badArgument(
          what,
          `unknown argument "${k}"; use ${TIMEDELTA_UNITS.map(([n]) => n).join(", ")}.`,
        );
      us += numberArg(what, k, v) * unit[1];
    }
    return new TemplateTimedelta(Math.round(us));
  }

  get days(): number {
    return Math.floor(this.totalMicroseconds / US_PER_DAY);
  }
  get seconds(): number {
    return Math.floor((this.totalMicroseconds - this.days * US_PER_DAY) / 1_000_000);
  }
  get microseconds(): number {
    return this.totalMicroseconds - this.days * US_PER_DAY - this.seconds * 1_000_000;
  }
  total_seconds(): number {
    return this.totalMicroseconds / 1_000_000;
  }
  /** Python's `str(timedelta)`: `1 day, 2:03:04`, `-1 day, 23:00:00`, `0:00:00.500000`. */
  toString(): string {
    const d = this.days;
    const s = this.seconds;
    const us = this.microseconds;
    const clock = `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}${us === 0 ? "" : `.${pad(us, 6)}`}`;
    return d === 0 ? clock : `${d} day${Math.abs(d) === 1 ? "" : "s"}, ${clock}`;
  }
  toJSON(): number {
    return this.total_seconds();
  }
}

/** The keyword arguments pendulum's `add`/`subtract` and Python's `replace` take. */
const CALENDAR_KEYS = ["years", "months", "weeks", "days", "hours", "minutes", "seconds", "microseconds"];
const REPLACE_KEYS = ["year", "month", "day", "hour", "minute", "second", "microsecond"];

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/**
 * A date in templates: prints as Airflow prints it (pendulum's `2026-01-01T00:00:00+00:00`, or
 * Python's `2026-01-01 00:00:00` for a naive `macros.datetime`), with the methods DAG authors call.
 * Dates are UTC and hold milliseconds (microseconds beyond that are dropped).
 */
export class TemplateDate extends Date {
  /** A Python naive datetime (from `macros.datetime(…)`, `.utcnow()`, `.strptime` without `%z`). */
  naive = false;

  static at(ms: number, naive = false): TemplateDate {
    const d = new TemplateDate(ms);
    d.naive = naive;
    return d;
  }

  override toString(): string {
    return this.naive ? this.isoformat(" ") : toTs(this);
  }
  isoformat(sep = "T"): string {
    const iso = toTs(this);
    const text = `${iso.slice(0, 10)}${sep}${iso.slice(11)}`;
    return this.naive ? text.replace(/\+00:00$/, "") : text;
  }
  strftime(format: string): string {
    return strftime(this, format);
  }
  get year(): number {
    return this.getUTCFullYear();
  }
  get month(): number {
    return this.getUTCMonth() + 1;
  }
  get day(): number {
    return this.getUTCDate();
  }
  get hour(): number {
    return this.getUTCHours();
  }
  get minute(): number {
    return this.getUTCMinutes();
  }
  get second(): number {
    return this.getUTCSeconds();
  }
  get microsecond(): number {
    return this.getUTCMilliseconds() * 1000;
  }
  /** Monday is 0, as in Python. */
  weekday(): number {
    return (this.getUTCDay() + 6) % 7;
  }
  isoweekday(): number {
    return this.weekday() + 1;
  }
  timestamp(): number {
    return this.getTime() / 1000;
  }
  /** `YYYY-MM-DD`, what `str(dt.date())` prints. */
  date(): string {
    return toDs(this);
  }
  /** Python's `dt.replace(day=1)`. */
  replace(...args: unknown[]): TemplateDate {
    const { kwargs } = splitArgs(args);
    const f = {
      year: this.year,
      month: this.month,
      day: this.day,
      hour: this.hour,
      minute: this.minute,
      second: this.second,
      microsecond: this.microsecond,
    };
    for (const [k, v] of Object.entries(kwargs)) {
      if (!REPLACE_KEYS.includes(k))
        throw badArgument("replace", `unknown argument "${k}"; use ${REPLACE_KEYS.join(", ")}.`);
      f[k as keyof typeof f] = numberArg("replace", k, v);
    }
    return makeDate(
      "replace",
      [f.year, f.month, f.day, f.hour, f.minute, f.second, f.microsecond],
      this.naive,
    );
  }
  /** pendulum's `dt.add(days=1, months=1)`, or `dt.add(macros.timedelta(…))`. Months clamp to the month's end. */
  add(...args: unknown[]): TemplateDate {
    return this.shift(args, 1, "add");
  }
  /** pendulum's `dt.subtract(hours=2)`. */
  subtract(...args: unknown[]): TemplateDate {
    return this.shift(args, -1, "subtract");
  }
  /** pendulum's `dt.diff_for_humans(other=None)`. */
  diff_for_humans(other?: unknown): string {
    return diffForHumans(this, other instanceof Date ? other : undefined);
  }

  private shift(args: unknown[], sign: 1 | -1, what: string): TemplateDate {
    const { positional, kwargs } = splitArgs(args);
    const td = positional[0];
    if (td instanceof TemplateTimedelta) return plusMicros(this, sign * td.totalMicroseconds);
    if (positional.length > 0)
      throw badArgument(what, "pass keyword arguments (days=1) or a macros.timedelta(…).");
    const n: Record<string, number> = {};
    for (const [k, v] of Object.entries(kwargs)) {
      if (!CALENDAR_KEYS.includes(k))
        throw badArgument(what, `unknown argument "${k}"; use ${CALENDAR_KEYS.join(", ")}.`);
      n[k] = sign * numberArg(what, k, v);
    }
    let base = new Date(this.getTime());
    const months = (n["years"] ?? 0) * 12 + (n["months"] ?? 0);
    if (months !== 0) {
      const total = this.getUTCFullYear() * 12 + this.getUTCMonth() + Math.trunc(months);
      const y = Math.floor(total / 12);
      const m = total - y * 12;
      base = new Date(
        Date.UTC(
          y,
          m,
          Math.min(this.getUTCDate(), daysInMonth(y, m)),
          this.getUTCHours(),
          this.getUTCMinutes(),
          this.getUTCSeconds(),
          this.getUTCMilliseconds(),
        ),
      );
    }
    const us =
      (n["weeks"] ?? 0) * 7 * US_PER_DAY +
      (n["days"] ?? 0) * US_PER_DAY +
      (n["hours"] ?? 0) * 3_600_000_000 +
      (n["minutes"] ?? 0) * 60_000_000 +
      (n["seconds"] ?? 0) * 1_000_000 +
      (n["microseconds"] ?? 0);
    return plusMicros(TemplateDate.at(base.getTime(), this.naive), us);
  }
}

function plusMicros(d: TemplateDate, us: number): TemplateDate {
  return TemplateDate.at(d.getTime() + Math.trunc(us / 1000), d.naive);
}

/** A date from Python's (year, month, day, hour, minute, second, microsecond), range-checked as Python does. */
function makeDate(what: string, parts: readonly unknown[], naive: boolean): TemplateDate {
  const names = ["year", "month", "day", "hour", "minute", "second", "microsecond"];
  const n = names.map((name, i) => (i < 3 || parts[i] !== undefined ? numberArg(what, name, parts[i]) : 0));
  const [y = 1, mo = 1, d = 1, h = 0, mi = 0, s = 0, us = 0] = n;
  const limits: [number, number, number][] = [
    [y, 1, 9999],
    [mo, 1, 12],
    [h, 0, 23],
    [mi, 0, 59],
    [s, 0, 59],
    [us, 0, 999_999],
  ];
  const bad = limits.findIndex(([v, lo, hi]) => !Number.isInteger(v) || v < lo || v > hi);
  if (bad >= 0 || !Number.isInteger(d) || d < 1 || d > daysInMonth(y, mo - 1)) {
    const name = bad >= 0 ? ["year", "month", "hour", "minute", "second", "microsecond"][bad] : "day";
    throw badArgument(what, `${name} is out of range (got ${n.join(", ")}).`);
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, s, Math.floor(us / 1000));
  // Date.UTC maps years 0–99 to 1900–1999.
  const date = new Date(ms);
  if (y < 100) date.setUTCFullYear(y);
  return TemplateDate.at(date.getTime(), naive);
}

/**
 * Marks a function that also carries methods (`macros.datetime(…)` and `macros.datetime.now()`):
 * nunjucks hands out a bare wrapper for a function found by attribute lookup, which would lose them.
 */
export const CALLABLE_OBJECT = Symbol.for("updraft.template.callableObject");

/** Python's `datetime` class as `macros.datetime`: callable, with its usual constructors. */
export function datetimeMacro(now: () => number = Date.now): unknown {
  const datetime = (...args: unknown[]): TemplateDate => {
    const { positional, kwargs } = splitArgs(args);
    const parts = REPLACE_KEYS.map((k, i) => (k in kwargs ? kwargs[k] : positional[i]));
    return makeDate("macros.datetime", parts, true);
  };
  return Object.assign(datetime, {
    [CALLABLE_OBJECT]: true,
    /** Python gives the host's local time; runners keep UTC, so this is the UTC wall clock, naive. */
    now: () => TemplateDate.at(now(), true),
    utcnow: () => TemplateDate.at(now(), true),
    today: () => TemplateDate.at(now(), true),
    strptime: (text: unknown, format: unknown) =>
      TemplateDate.at(strptime(String(text), String(format)).getTime(), !String(format).includes("%z")),
    fromisoformat: (text: unknown) => {
      const s = String(text);
      const m =
        /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
          s,
        );
      if (m === null) throw badArgument("macros.datetime.fromisoformat", `invalid isoformat string: "${s}".`);
      const us = Number((m[7] ?? "0").padEnd(6, "0"));
      const d = makeDate(
        "macros.datetime.fromisoformat",
        [m[1], m[2], m[3], m[4] ?? 0, m[5] ?? 0, m[6] ?? 0, us].map(Number),
        m[8] === undefined,
      );
      if (m[8] === undefined || m[8] === "Z") return d;
      const off = m[8].replace(":", "");
      const minutes =
        (off.startsWith("-") ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(3, 5)));
      return TemplateDate.at(d.getTime() - minutes * 60_000, false);
    },
    fromtimestamp: (ts: unknown) =>
      TemplateDate.at(numberArg("macros.datetime.fromtimestamp", "timestamp", ts) * 1000, true),
  });
}

/** Python's `a + b` for dates and timedeltas; anything else keeps nunjucks' (JavaScript's) `+`. */
export function pyAdd(a: unknown, b: unknown): unknown {
  if (a instanceof TemplateDate && b instanceof TemplateTimedelta) return plusMicros(a, b.totalMicroseconds);
  if (a instanceof TemplateTimedelta && b instanceof TemplateDate) return plusMicros(b, a.totalMicroseconds);
  if (a instanceof TemplateTimedelta && b instanceof TemplateTimedelta)
    return new TemplateTimedelta(a.totalMicroseconds + b.totalMicroseconds);
  return (a as number) + (b as number);
}

/** Python's `a - b`: date − date is a timedelta, date − timedelta a date. */
export function pySub(a: unknown, b: unknown): unknown {
  if (a instanceof Date && b instanceof Date)
    return new TemplateTimedelta((a.getTime() - b.getTime()) * 1000);
  if (a instanceof TemplateDate && b instanceof TemplateTimedelta) return plusMicros(a, -b.totalMicroseconds);
  if (a instanceof TemplateTimedelta && b instanceof TemplateTimedelta)
    return new TemplateTimedelta(a.totalMicroseconds - b.totalMicroseconds);
  return (a as number) - (b as number);
}
