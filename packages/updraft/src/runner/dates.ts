// Airflow's date strings and Python's strftime/strptime, in UTC, for the task context and the
// `macros` templates use. Only the directives people write in DAGs are supported; an unknown one
// is an error that names it rather than a silently wrong date.
import { UpdraftError } from "../common/errors.js";
import { pythonIsoformat } from "../model/run-id.js";

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function dayOfYear(d: Date): number {
  return (
    Math.floor(
      (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) /
        86_400_000,
    ) + 1
  );
}

/** `YYYY-MM-DD` of a date in UTC (Airflow's `ds`). */
export function toDs(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/**
 * ISO 8601 with a `+00:00` offset, as Python's `isoformat()` prints an aware UTC datetime (Airflow's
 * `ts`). Run ids print dates the same way, so both use the model's one formatter.
 */
export const toTs: (d: Date) => string = pythonIsoformat;

/** `YYYYMMDDTHHMMSS` (Airflow's `ts_nodash`). */
export function toTsNodash(d: Date): string {
  return strftime(d, "%Y%m%dT%H%M%S");
}

/** A Python naive datetime (no offset): `%z` and `%Z` print nothing for it, as in Python. */
function isNaive(d: Date): boolean {
  return (d as Date & { naive?: boolean }).naive === true;
}

/** Formats a date in UTC with Python's strftime directives. */
export function strftime(d: Date, format: string): string {
  return format.replace(/%(.)/g, (whole, c: string) => {
    switch (c) {
      case "Y":
        return pad(d.getUTCFullYear(), 4);
      case "y":
        return pad(d.getUTCFullYear() % 100);
      case "m":
        return pad(d.getUTCMonth() + 1);
      case "d":
        return pad(d.getUTCDate());
      case "e":
        return String(d.getUTCDate()).padStart(2, " ");
      case "H":
        return pad(d.getUTCHours());
      case "I":
        return pad(d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12);
      case "p":
        return d.getUTCHours() < 12 ? "AM" : "PM";
      case "M":
        return pad(d.getUTCMinutes());
      case "S":
        return pad(d.getUTCSeconds());
      case "f":
        return pad(d.getUTCMilliseconds() * 1000, 6);
      case "j":
        return pad(dayOfYear(d), 3);
      case "b":
        return (MONTHS[d.getUTCMonth()] ?? "").slice(0, 3);
      case "B":
        return MONTHS[d.getUTCMonth()] ?? "";
      case "a":
        return (DAYS[d.getUTCDay()] ?? "").slice(0, 3);
      case "A":
        return DAYS[d.getUTCDay()] ?? "";
      case "w":
        return String(d.getUTCDay());
      case "u":
        return String(d.getUTCDay() === 0 ? 7 : d.getUTCDay());
      case "z":
        return isNaive(d) ? "" : "+0000";
      case "Z":
        return isNaive(d) ? "" : "UTC";
      case "s":
        return String(Math.floor(d.getTime() / 1000));
      case "F":
        return toDs(d);
      case "T":
        return strftime(d, "%H:%M:%S");
      case "%":
        return "%";
      default:
        throw new UpdraftError(
          "UNSUPPORTED_DATE_FORMAT",
          `Date format directive "${whole}" is not supported. Use %Y %y %m %d %e %H %I %p %M %S %f %j %b %B %a %A %w %u %z %Z %s %F %T or %%.`,
        );
    }
  });
}

const FIELD: Record<string, string> = {
  Y: "(\\d{4})",
  y: "(\\d{2})",
  m: "(\\d{1,2})",
  d: "(\\d{1,2})",
  H: "(\\d{1,2})",
  M: "(\\d{1,2})",
  S: "(\\d{1,2})",
  f: "(\\d{1,6})",
  j: "(\\d{1,3})",
  b: "([A-Za-z]{3})",
  B: "([A-Za-z]+)",
  a: "([A-Za-z]{3})",
  A: "([A-Za-z]+)",
  z: "([+-]\\d{2}:?\\d{2}|Z)",
  Z: "(UTC|GMT)",
  "%": "%",
};

function monthIndex(name: string, full: boolean): number {
  const n = name.toLowerCase();
  return MONTHS.findIndex((m) => (full ? m.toLowerCase() === n : m.slice(0, 3).toLowerCase() === n));
}

/** Parses a string with Python's strptime directives, as a UTC date; throws naming the input and format. */
export function strptime(text: string, format: string): Date {
  const order: string[] = [];
  let pattern = "";
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] ?? "";
    if (ch === "%" && i + 1 < format.length) {
      const c = format[++i] ?? "";
      const f = FIELD[c];
      if (f === undefined) {
        throw new UpdraftError(
          "UNSUPPORTED_DATE_FORMAT",
          `Date format directive "%${c}" cannot be parsed. Use %Y %y %m %d %H %M %S %f %j %b %B %a %A %z %Z or %%.`,
        );
      }
      pattern += f;
      if (c !== "%") order.push(c);
    } else {
      pattern += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  const m = new RegExp(`^${pattern}$`).exec(text);
  const bad = () =>
    new UpdraftError("INVALID_DATE", `"${text}" does not match the date format "${format}".`, {
      details: { text, format },
    });
  if (m === null) throw bad();
  let year = 1900;
  let month = 0;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let yday: number | undefined;
  let offsetMin = 0;
  order.forEach((c, i) => {
    const v = m[i + 1] ?? "";
    switch (c) {
      case "Y":
        year = Number(v);
        break;
      case "y":
        year = Number(v) + (Number(v) < 69 ? 2000 : 1900);
        break;
      case "m":
        month = Number(v) - 1;
        break;
      case "d":
        day = Number(v);
        break;
      case "H":
        hour = Number(v);
        break;
      case "M":
        minute = Number(v);
        break;
      case "S":
        second = Number(v);
        break;
      case "f":
        ms = Math.floor(Number(v.padEnd(6, "0")) / 1000);
        break;
      case "j":
        yday = Number(v);
        break;
      case "b":
      case "B":
        month = monthIndex(v, c === "B");
        if (month < 0) throw bad();
        break;
      case "z":
        if (v !== "Z") {
          const digits = v.replace(":", "");
          offsetMin =
            (digits.startsWith("-") ? -1 : 1) *
            (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
        }
        break;
    }
  });
  const date =
    yday !== undefined
      ? new Date(Date.UTC(year, 0, yday, hour, minute, second, ms))
      : new Date(Date.UTC(year, month, day, hour, minute, second, ms));
  // Date.UTC rolls Feb 30 over to March: reject it as strptime does.
  if (
    yday === undefined &&
    (date.getUTCMonth() !== month || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 61)
  ) {
    throw bad();
  }
  return new Date(date.getTime() - offsetMin * 60_000);
}

/** Airflow's `macros.ds_add`: a `YYYY-MM-DD` date plus (or minus) whole days. */
export function dsAdd(ds: string, days: number): string {
  // airflow/macros/__init__.py: ds_add returns str(ds) untouched when days is 0.
  if (days === 0) return String(ds);
  if (typeof days !== "number" || !Number.isInteger(days)) {
    throw new UpdraftError(
      "INVALID_MACRO_ARGUMENT",
      `macros.ds_add(ds, days): days must be a whole number, got ${JSON.stringify(days)}.`,
    );
  }
  const d = strptime(String(ds), "%Y-%m-%d");
  return toDs(new Date(d.getTime() + days * 86_400_000));
}

/** Airflow's `macros.ds_format`: reparses `ds` with `inputFormat` and prints it with `outputFormat`. */
export function dsFormat(ds: string, inputFormat: string, outputFormat: string): string {
  return strftime(strptime(String(ds), inputFormat), outputFormat);
}
