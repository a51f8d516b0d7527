// `macros.datetime_diff_for_humans` and `dt.diff_for_humans()`: Airflow returns pendulum's
// `diff_for_humans` in the English locale ("2 hours ago", "in 3 days", "a few seconds ago", and
// "1 day after" when compared with another date rather than now). The unit choice and rounding
// follow pendulum's DifferenceFormatter.format (pendulum/formatting/difference_formatter.py).

interface Parts {
  years: number;
  months: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** Calendar difference from `a` to `b` (a ≤ b), field by field with borrowing, as pendulum's precise_diff. */
function preciseDiff(a: Date, b: Date): Parts {
  let years = b.getUTCFullYear() - a.getUTCFullYear();
  let months = b.getUTCMonth() - a.getUTCMonth();
  let days = b.getUTCDate() - a.getUTCDate();
  let hours = b.getUTCHours() - a.getUTCHours();
  let minutes = b.getUTCMinutes() - a.getUTCMinutes();
  let seconds = b.getUTCSeconds() - a.getUTCSeconds();
  if (b.getUTCMilliseconds() < a.getUTCMilliseconds()) seconds -= 1;
  if (seconds < 0) {
    seconds += 60;
    minutes -= 1;
  }
  if (minutes < 0) {
    minutes += 60;
    hours -= 1;
  }
  if (hours < 0) {
    hours += 24;
    days -= 1;
  }
  if (days < 0) {
    const prevMonth = b.getUTCMonth() === 0 ? 11 : b.getUTCMonth() - 1;
    const prevYear = b.getUTCMonth() === 0 ? b.getUTCFullYear() - 1 : b.getUTCFullYear();
    days += daysInMonth(prevYear, prevMonth);
    months -= 1;
  }
  if (months < 0) {
    months += 12;
    years -= 1;
  }
  return { years, months, days, hours, minutes, seconds };
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/**
 * How far `dt` is from `since` (or from now), in pendulum's words.
 *
 * @example
 * ```ts
 * diffForHumans(new Date("2026-01-01T10:00Z"), new Date("2026-01-01T12:00Z")); // "2 hours before"
 * ```
 */
export function diffForHumans(dt: Date, since?: Date, now: () => number = Date.now): string {
  const isNow = since === undefined;
  const other = since ?? new Date(now());
  const future = dt.getTime() > other.getTime();
  const p = future ? preciseDiff(other, dt) : preciseDiff(dt, other);
  const weeks = Math.floor(p.days / 7);
  const remainingDays = p.days % 7;
  let unit: string;
  let count: number;
  if (p.years > 0) {
    unit = "year";
    count = p.years + (p.months > 6 ? 1 : 0);
  } else if (p.months === 11 && weeks * 7 + remainingDays > 15) {
    unit = "year";
    count = 1;
  } else if (p.months > 0) {
    unit = "month";
    count = p.months + (weeks * 7 + remainingDays >= 27 ? 1 : 0);
  } else if (weeks > 0) {
    unit = "week";
    count = weeks + (remainingDays > 3 ? 1 : 0);
  } else if (remainingDays > 0) {
    unit = "day";
    count = remainingDays + (p.hours >= 22 ? 1 : 0);
  } else if (p.hours > 0) {
    unit = "hour";
    count = p.hours;
  } else if (p.minutes > 0) {
    unit = "minute";
    count = p.minutes;
  } else if (p.seconds > 10 && p.seconds <= 59) {
    unit = "second";
    count = p.seconds;
  } else {
    const few = "a few seconds";
    if (isNow) return future ? `in ${few}` : `${few} ago`;
    return future ? `${few} after` : `${few} before`;
  }
  const time = plural(count === 0 ? 1 : count, unit);
  if (isNow) return future ? `in ${time}` : `${time} ago`;
  return future ? `${time} after` : `${time} before`;
}
