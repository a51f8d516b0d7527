// DAG params in the trigger form: the spec the API returns (packages/updraft/src/model/params.ts
// ParamSpec), each field's text to and from its JSON value, and the same checks the server makes,
// so that the user sees a mistake before submitting.

export interface ParamSpec {
  default?: unknown;
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  title?: string;
}

export function paramSpecs(raw: Record<string, unknown>): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(raw))
    out[name] = typeof spec === "object" && spec !== null && !Array.isArray(spec) ? (spec as ParamSpec) : {};
  return out;
}

/** A value as the text of its field: strings as they are, everything else as JSON. */
export function showField(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function types(spec: ParamSpec): string[] {
  return spec.type === undefined ? [] : [spec.type].flat();
}

/** A field's text as its value: undefined when empty, JSON when the type is not only string. */
export function parseField(text: string, spec: ParamSpec): unknown {
  if (text === "") return types(spec).includes("null") ? null : undefined;
  const t = types(spec);
  if (t.length === 1 && t[0] === "string") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** What is wrong with a param's value, or null. */
export function paramError(value: unknown, given: boolean, spec: ParamSpec): string | null {
  if (!given) return "default" in spec ? null : "Required: this DAG has no default for it.";
  const t = types(spec);
  const actual = typeOf(value);
  if (t.length > 0 && !t.includes(actual) && !(actual === "integer" && t.includes("number")))
    return `Must be ${t.join(" or ")}, not ${actual}.`;
  if (spec.enum !== undefined && !spec.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    return `Must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(", ")}.`;
  if (typeof value === "number") {
    if (spec.minimum !== undefined && value < spec.minimum) return `Must be at least ${spec.minimum}.`;
    if (spec.maximum !== undefined && value > spec.maximum) return `Must be at most ${spec.maximum}.`;
  }
  if (typeof value === "string") {
    if (spec.minLength !== undefined && value.length < spec.minLength)
      return `Must have at least ${spec.minLength} characters.`;
    if (spec.maxLength !== undefined && value.length > spec.maxLength)
      return `Must have at most ${spec.maxLength} characters.`;
    if (spec.pattern !== undefined) {
      try {
        if (!new RegExp(spec.pattern, "u").test(value)) return `Must match ${spec.pattern}.`;
      } catch {
        return null;
      }
    }
  }
  return null;
}
