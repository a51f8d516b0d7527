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

export function string(o: Common & { default: string }): SettingDef<string> {
  return def("string", z.string(), "a string", o.default, o);
}

/** A string that may be unset (`null`); an empty string means unset. */
export function optionalString(o: Common & { secret?: boolean }): SettingDef<string | null> {
  return def("optional-string", z.string().nullable(), "a string", null, o, o.secret ?? false);
}

/** A filesystem path; `~` and `$UPDRAFT_HOME` are expanded and the result made absolute. */
export function path(o: Common & { default: string }): SettingDef<string> {
  return def("path", z.string().min(1), "a filesystem path", o.default, o);
}
