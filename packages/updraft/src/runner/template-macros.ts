// `macros` in templates: what airflow/macros/__init__.py exposes (ds_add, ds_format, datetime,
// timedelta, random, json, time, uuid, datetime_diff_for_humans), plus Updraft's strftime and
// isoformat. A misspelt macro is an error that names it and the nearest known one, because
// nunjucks would otherwise print nothing useful ("Unable to call `macros["ds_addd"]`").
import { randomUUID } from "node:crypto";
import { UpdraftError } from "../common/errors.js";
import { dsAdd, dsFormat, strftime, toTs } from "./dates.js";
import { diffForHumans } from "./humanize.js";
import { TemplateTimedelta, datetimeMacro, splitArgs } from "./template-date.js";

/** Python's `json.dumps` layout: `", "` and `": "` separators, non-ASCII escaped, optional indent and sort_keys. */
function pyJsonDumps(...args: unknown[]): string {
  const { positional, kwargs } = splitArgs(args);
  const indent = kwargs["indent"];
  const sortKeys = kwargs["sort_keys"] === true;
  const pad = typeof indent === "number" ? " ".repeat(indent) : typeof indent === "string" ? indent : null;
  const str = (s: string) =>
    JSON.stringify(s).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  const walk = (v: unknown, depth: number): string => {
    if (v === undefined || v === null) return "null";
    if (typeof v === "string") return str(v);
    if (typeof v === "number")
      return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    if (typeof v === "boolean") return v ? "true" : "false";
    const toJson = (v as { toJSON?: () => unknown }).toJSON;
    if (typeof toJson === "function") return walk(toJson.call(v), depth);
    const nl = pad === null ? "" : `\n${pad.repeat(depth + 1)}`;
    const end = pad === null ? "" : `\n${pad.repeat(depth)}`;
    const sep = pad === null ? ", " : ",";
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      return `[${nl}${v.map((x) => walk(x, depth + 1)).join(sep + nl)}${end}]`;
    }
    let keys = Object.keys(v as object);
    if (sortKeys) keys = keys.sort();
    if (keys.length === 0) return "{}";
    const rec = v as Record<string, unknown>;
    return `{${nl}${keys.map((k) => `${str(k)}: ${walk(rec[k], depth + 1)}`).join(sep + nl)}${end}}`;
  };
  return walk(positional[0], 0);
}

/** A UUID as Python's: prints with dashes, `.hex` without. */
class TemplateUuid {
  constructor(private readonly text: string) {}
  get hex(): string {
    return this.text.replace(/-/g, "");
  }
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The nearest of `known` to `name` when it is close enough to be a typo. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Names any object answers to without being a macro (printing, promises, JSON). */
const PASS_THROUGH = new Set(["toString", "valueOf", "toJSON", "then", "constructor", "inspect"]);

/**
 * The `macros` object of a template's scope. `now` is injectable for tests.
 *
 * @example
 * ```ts
 * templateMacros().ds_add("2026-01-05", 7); // "2026-01-12"
 * ```
 */
export function templateMacros(now: () => number = Date.now): Record<string, unknown> {
  const macros: Record<string, unknown> = {
    ds_add: dsAdd,
    ds_format: dsFormat,
    datetime: datetimeMacro(now),
    timedelta: (...args: unknown[]) => TemplateTimedelta.of(...args),
    random: () => Math.random(),
    json: {
      dumps: pyJsonDumps,
      loads: (s: unknown) => JSON.parse(String(s)) as unknown,
    },
    time: { time: () => now() / 1000 },
    uuid: { uuid4: () => new TemplateUuid(randomUUID()) },
    datetime_diff_for_humans: (...args: unknown[]) => {
      const { positional, kwargs } = splitArgs(args);
      const dt = positional[0];
      const since = "since" in kwargs ? kwargs["since"] : positional[1];
      if (!(dt instanceof Date))
        throw new UpdraftError(
          "INVALID_MACRO_ARGUMENT",
          `macros.datetime_diff_for_humans(dt, since=None): dt must be a date, got ${JSON.stringify(dt) ?? String(dt)}.`,
        );
      return diffForHumans(dt, since instanceof Date ? since : undefined, now);
    },
    strftime: (d: Date, f: string) => strftime(d, f),
    isoformat: (d: Date) => toTs(d),
  };
  const known = Object.keys(macros);
  return new Proxy(macros, {
    get(target, prop, receiver) {
      if (typeof prop === "symbol" || prop in target || PASS_THROUGH.has(prop))
        return Reflect.get(target, prop, receiver) as unknown;
      const near = didYouMean(prop, known);
      throw new UpdraftError(
        "UNKNOWN_MACRO",
        `unknown macro ${prop}; known macros: ${known.join(", ")}${near === undefined ? "" : `; did you mean ${near}?`}`,
        { details: { macro: prop } },
      );
    },
  });
}
