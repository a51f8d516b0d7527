import { UpdraftError } from "../common/errors.js";

export const PARAM_TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/**
 * One DAG param: a default and a JSON-schema-like description of the values it accepts. A param
 * without `default` is required: each run must give it in its conf.
 */
export interface ParamSpec {
  readonly default?: unknown;
  readonly type?: ParamType | readonly ParamType[];
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A regular expression (JavaScript syntax, unicode mode) a string value must contain a match of. */
  readonly pattern?: string;
  readonly description?: string;
  readonly title?: string;
}

/**
 * Params as a DAG author writes them: a spec object, or a bare default value. A plain object is
 * always read as a spec, so an object default is written `{ default: { … } }`.
 */
export type RawParams = Readonly<Record<string, unknown>>;

const SPEC_KEYS = new Set([
  "default",
  "type",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "description",
  "title",
]);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Turns raw params into specs, or throws INVALID_PARAM_SPEC naming each malformed param (unknown
 * keys, wrong types of keys) and PARAMS_INVALID when a default breaks its own spec.
 *
 * @example
 * ```ts
 * normalizeParams({ limit: { default: 100, type: "integer", maximum: 1000 }, region: "eu" });
 * ```
 */
export function normalizeParams(raw: RawParams): Record<string, ParamSpec> {
  const specs: Record<string, ParamSpec> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (!isPlainObject(value)) {
      specs[name] = { default: value };
      continue;
    }
    const before = problems.length;
    const unknown = Object.keys(value).filter((k) => !SPEC_KEYS.has(k));
    if (unknown.length > 0) {
      problems.push(
        `param "${name}": unknown key(s) ${unknown.map((k) => `"${k}"`).join(", ")}; a param spec takes ${[...SPEC_KEYS].join(", ")} (to give an object as the default, write { default: {...} })`,
      );
    }
    const { type } = value;
    const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
    if (types.length === 0 && type !== undefined) problems.push(`param "${name}": "type" must not be empty`);
    for (const t of types) {
      if (!(PARAM_TYPES as readonly unknown[]).includes(t)) {
        problems.push(`param "${name}": type ${JSON.stringify(t)} is not one of ${PARAM_TYPES.join(", ")}`);
      }
    }
    if (value.enum !== undefined && (!Array.isArray(value.enum) || value.enum.length === 0)) {
      problems.push(`param "${name}": "enum" must be a non-empty array`);
    }
    for (const key of ["minimum", "maximum"] as const) {
      if (value[key] !== undefined && (typeof value[key] !== "number" || !Number.isFinite(value[key]))) {
        problems.push(`param "${name}": "${key}" must be a number`);
      }
    }
    for (const key of ["minLength", "maxLength"] as const) {
      const n = value[key];
      if (n !== undefined && (typeof n !== "number" || !Number.isInteger(n) || n < 0)) {
        problems.push(`param "${name}": "${key}" must be an integer ≥ 0`);
      }
    }
    for (const key of ["description", "title"] as const) {
      if (value[key] !== undefined && typeof value[key] !== "string") {
        problems.push(`param "${name}": "${key}" must be a string`);
      }
    }
    if (value.pattern !== undefined) {
      if (typeof value.pattern !== "string") problems.push(`param "${name}": "pattern" must be a string`);
      else if (compilePattern(value.pattern) === null) {
        problems.push(
          `param "${name}": pattern ${JSON.stringify(value.pattern)} is not a valid regular expression`,
        );
      }
    }
    if (problems.length === before) specs[name] = value as ParamSpec;
  }
  if (problems.length > 0) {
    throw new UpdraftError("INVALID_PARAM_SPEC", `Invalid params:\n- ${problems.join("\n- ")}`, {
      details: { problems },
    });
  }
  // Catch a default that breaks its own spec when the DAG is parsed, not when it is triggered.
  const violations: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if ("default" in spec) violations.push(...validateParam(name, spec, spec.default));
  }
  if (violations.length > 0) throw paramsInvalid(violations, "default value");
  return specs;
}

/**
 * The params of a run: each conf value, else the param's default, checked against its spec.
 * Conf keys that are not params pass through (as in Airflow). Throws PARAMS_INVALID listing every
 * violation, including a required param missing from conf.
 *
 * @example
 * ```ts
 * resolveParams(normalizeParams({ limit: { default: 100, maximum: 1000 } }), { limit: 5000 });
 * // UpdraftError PARAMS_INVALID: param "limit": 5000 is greater than maximum 1000
 * ```
 */
export function resolveParams(
  specs: Readonly<Record<string, ParamSpec>>,
  conf: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const violations: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    let value: unknown;
    if (Object.hasOwn(conf, name)) value = conf[name];
    else if ("default" in spec) value = spec.default;
    else {
      violations.push(
        `param "${name}": no value given and it has no default; pass "${name}" in the run's conf`,
      );
      continue;
    }
    violations.push(...validateParam(name, spec, value));
    values[name] = value;
  }
  if (violations.length > 0) throw paramsInvalid(violations, "value");
  for (const [key, value] of Object.entries(conf)) if (!Object.hasOwn(values, key)) values[key] = value;
  return values;
}

function paramsInvalid(violations: string[], what: string): UpdraftError {
  return new UpdraftError(
    "PARAMS_INVALID",
    `${violations.length === 1 ? `A param ${what} is` : `${violations.length} param ${what}s are`} invalid:\n- ${violations.join("\n- ")}`,
    { details: { violations } },
  );
}

function typeOf(value: unknown): ParamType | "other" {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "object") return "object";
  return typeof value === "number" && Number.isFinite(value) ? "number" : "other";
}

function hasType(value: unknown, type: ParamType): boolean {
  if (type === "integer") return typeof value === "number" && Number.isInteger(value);
  return typeOf(value) === type;
}

/** Every way `value` breaks `spec`, as readable lines naming the param. */
export function validateParam(name: string, spec: ParamSpec, value: unknown): string[] {
  const out: string[] = [];
  const shown = JSON.stringify(value) ?? String(value);
  const types =
    spec.type === undefined ? [] : Array.isArray(spec.type) ? spec.type : [spec.type as ParamType];
  if (types.length > 0 && !types.some((t) => hasType(value, t))) {
    out.push(`param "${name}": ${shown} is not of type ${types.join(" or ")}`);
    return out;
  }
  if (spec.enum !== undefined && !spec.enum.some((e) => jsonEqual(e, value))) {
    out.push(`param "${name}": ${shown} is not one of ${spec.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  }
  if (typeof value === "number") {
    if (spec.minimum !== undefined && value < spec.minimum) {
      out.push(`param "${name}": ${shown} is less than minimum ${spec.minimum}`);
    }
    if (spec.maximum !== undefined && value > spec.maximum) {
      out.push(`param "${name}": ${shown} is greater than maximum ${spec.maximum}`);
    }
  }
  if (typeof value === "string") {
    // JSON schema counts code points, not UTF-16 units.
    const length = [...value].length;
    if (spec.minLength !== undefined && length < spec.minLength) {
      out.push(`param "${name}": ${shown} is shorter than minLength ${spec.minLength}`);
    }
    if (spec.maxLength !== undefined && length > spec.maxLength) {
      out.push(`param "${name}": ${shown} is longer than maxLength ${spec.maxLength}`);
    }
    if (spec.pattern !== undefined && compilePattern(spec.pattern)?.test(value) === false) {
      out.push(`param "${name}": ${shown} does not match pattern ${JSON.stringify(spec.pattern)}`);
    }
  }
  return out;
}

function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return null;
  }
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}
