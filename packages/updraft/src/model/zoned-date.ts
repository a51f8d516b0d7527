import { UpdraftError } from "../common/errors.js";

const HAS_OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

/** Offset of `timeZone` from UTC at the instant `date`, in ms. */
const formats = new Map<string, Intl.DateTimeFormat>();

function offsetMs(date: Date, timeZone: string): number {
  if (timeZone === "UTC") return 0;
  let format = formats.get(timeZone);
  if (!format) {
    // Formatters are costly to build (about 0.1 ms); one per zone is enough.
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formats.set(timeZone, format);
  }
  const parts = format.formatToParts(date);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return asUtc - (date.getTime() - date.getMilliseconds());
}

/**
 * A date as the user wrote it: a Date is an instant; a string with an offset (`Z`, `+02:00`) too;
 * a string without one (`"2026-01-01"`, `"2026-01-01T06:00"`) is a wall-clock time in `timeZone`.
 */
export function parseDateInZone(value: Date | string, timeZone: string, field: string): Date {
  if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) return value;
  } else if (typeof value === "string") {
    const text = value.trim();
    if (HAS_OFFSET.test(text)) {
      const d = new Date(text);
      if (!Number.isNaN(d.getTime())) return d;
    }
    const m = LOCAL.exec(text);
    if (m) {
      const [y, mo, d, h, mi, s, ms] = m.slice(1).map((x) => Number(x ?? 0)) as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
      // Two passes settle the offset around DST changes.
      let guess = wall - offsetMs(new Date(wall), timeZone);
      guess = wall - offsetMs(new Date(guess), timeZone);
      return new Date(guess);
    }
  }
  throw new UpdraftError(
    "INVALID_DATE",
    `${field}: ${JSON.stringify(value)} is not a date. Use a Date or an ISO 8601 string such as "2026-01-01" or "2026-01-01T06:00:00Z".`,
  );
}
