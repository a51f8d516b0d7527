import { UpdraftError } from "./errors.js";

/**
 * A duration: milliseconds as a number, or a string of number+unit parts such as `"5m"`,
 * `"1h30m"`, `"2d"`, `"500ms"`, `"90s"`.
 *
 * @example
 * ```ts
 * const retryDelay: Duration = "5m"; // same as 300_000
 * ```
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Converts a {@link Duration} to milliseconds, or throws an `INVALID_DURATION` error naming the
 * field and the accepted forms.
 *
 * @example
 * ```ts
 * parseDuration("1h30m"); // 5_400_000
 * ```
 */
export function parseDuration(value: Duration, field = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === "string") {
    const text = value.trim();
    let total = 0;
    let consumed = 0;
    PART.lastIndex = 0;
    for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
      total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
      consumed = PART.lastIndex;
    }
    if (text.length > 0 && consumed === text.length) return Math.round(total);
  }
  throw new UpdraftError(
    "INVALID_DURATION",
    `${field}: ${JSON.stringify(value)} is not a duration. Use milliseconds (300000) or a string like "5m", "1h30m", "2d" (units ms, s, m, h, d, w).`,
  );
}

/** Formats milliseconds as the shortest `1h30m`-style string, for messages and the UI. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join("");
}
