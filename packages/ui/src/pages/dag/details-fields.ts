// The Details tab's derived fields: params as rows (name, default, type, description) and the task
// settings every task of the DAG shares (the serialized DAG keeps each task's options, not the
// defaultArgs they came from, so "shared by all" is what can be shown).

export interface ParamRow {
  name: string;
  default: string;
  type: string;
  description: string;
}

export function paramRows(params: Record<string, unknown>): ParamRow[] {
  return Object.entries(params).map(([name, raw]) => {
    const p = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const type = Array.isArray(p["type"])
      ? p["type"].join(" | ")
      : typeof p["type"] === "string"
        ? p["type"]
        : "";
    const extra = Array.isArray(p["enum"])
      ? ` (one of ${p["enum"].map((v) => JSON.stringify(v)).join(", ")})`
      : "";
    return {
      name,
      default: "default" in p ? JSON.stringify(p["default"]) : "(required)",
      type: type + extra,
      description: typeof p["description"] === "string" ? p["description"] : "",
    };
  });
}

const seconds = (ms: unknown) => (typeof ms === "number" ? `${ms / 1000} s` : "none");

const SHARED: [string, string, (v: unknown) => string][] = [
  ["Owner", "owner", String],
  ["Retries", "retries", String],
  ["Retry delay", "retry_delay_ms", seconds],
  ["Exponential backoff", "retry_exponential_backoff", (v) => (v === true ? "yes" : "no")],
  ["Execution timeout", "execution_timeout_ms", seconds],
  ["Pool", "pool", String],
  ["Queue", "queue", String],
  ["Trigger rule", "trigger_rule", String],
  ["Depends on past", "depends_on_past", (v) => (v === true ? "yes" : "no")],
  ["Email on failure", "email_on_failure", (v) => (v === true ? "yes" : "no")],
];

/** Each task setting as the one value all tasks have, or "varies" with the values seen. */
export function taskDefaults(tasks: readonly Record<string, unknown>[]): [string, string][] {
  if (tasks.length === 0) return [];
  return SHARED.map(([label, key, show]) => {
    const values = [...new Set(tasks.map((t) => show(t[key])))];
    return [
      label,
      values.length === 1
        ? (values[0] ?? "")
        : `varies: ${values.slice(0, 4).join(", ")}${values.length > 4 ? ", …" : ""}`,
    ];
  });
}
