import { z } from "zod";

/** How a setting's value is written and read; decides how env strings are coerced. */
export type SettingKind = "string" | "optional-string" | "integer" | "boolean" | "seconds" | "path";

/** One declared setting: its type, default, description and whether it is a secret. */
export interface SettingDef<T> {
  readonly kind: SettingKind;
  /** Validates the value after coercion. */
  readonly schema: z.ZodType<T>;
  readonly default: T;
  readonly description: string;
  /** Secrets are masked as "< hidden >" in listings and never echoed in error messages. */
  readonly secret: boolean;
  /** Other key names in the same section accepted for this setting (Airflow's older names). */
  readonly aliases: readonly string[];
  /** What a valid value looks like, for error messages. */
  readonly expected: string;
}

export type SettingValue<D> = D extends SettingDef<infer T> ? T : never;

interface Common {
  description: string;
  aliases?: readonly string[];
}

function def<T>(kind: SettingKind, schema: z.ZodType<T>, expected: string, d: T, o: Common, secret = false) {
  return {
    kind,
    schema,
    expected,
    default: d,
    description: o.description,
    secret,
    aliases: o.aliases ?? [],
  } satisfies SettingDef<T>;
}

export function integer(o: Common & { default: number; min?: number; max?: number }): SettingDef<number> {
  const min = o.min ?? 0;
  let schema = z.number().int().min(min);
  let expected = `an integer >= ${min}`;
  if (o.max !== undefined) {
    schema = schema.max(o.max);
    expected = `an integer from ${min} to ${o.max}`;
  }
  return def("integer", schema, expected, o.default, o);
}

/** A non-negative number of seconds; also accepts durations such as "5m" or "90s". */
export function seconds(o: Common & { default: number }): SettingDef<number> {
  return def(
    "seconds",
    z.number().min(0),
    'a number of seconds >= 0 (or a duration like "5m")',
    o.default,
    o,
  );
}

export function boolean(o: Common & { default: boolean }): SettingDef<boolean> {
  return def("boolean", z.boolean(), "a boolean (true/false)", o.default, o);
}

export function string(o: Common & { default: string; secret?: boolean }): SettingDef<string> {
  return def("string", z.string(), "a string", o.default, o, o.secret ?? false);
}

/** A string that may be unset (`null`); an empty string means unset. */
export function optionalString(o: Common & { secret?: boolean }): SettingDef<string | null> {
  return def("optional-string", z.string().nullable(), "a string", null, o, o.secret ?? false);
}

/** A filesystem path; `~` and `$UPDRAFT_HOME` are expanded and the result made absolute. */
export function path(o: Common & { default: string }): SettingDef<string> {
  return def("path", z.string().min(1), "a filesystem path", o.default, o);
}

/**
 * One of `choices` (lower-cased). Booleans, and Airflow's boolean spellings in env and files
 * (`True`, `t`, `1`, `off`…), are read as "true"/"false" so that a choice that extends a boolean
 * setting (webserver.expose_config: false | true | non-sensitive-only) accepts its old values.
 */
export function choice<const C extends readonly [string, ...string[]]>(
  o: Common & { default: C[number]; choices: C },
): SettingDef<C[number]> {
  const TRUE = ["true", "t", "yes", "y", "on", "1"];
  const FALSE = ["false", "f", "no", "n", "off", "0"];
  const schema = z.preprocess((v) => {
    const t = typeof v === "boolean" ? String(v) : typeof v === "string" ? v.trim().toLowerCase() : v;
    if (typeof t !== "string") return t;
    if (o.choices.includes("true") && TRUE.includes(t)) return "true";
    if (o.choices.includes("false") && FALSE.includes(t)) return "false";
    return t;
  }, z.enum(o.choices)) as unknown as z.ZodType<C[number]>;
  return def("string", schema, `one of ${o.choices.join(", ")}`, o.default, o);
}
