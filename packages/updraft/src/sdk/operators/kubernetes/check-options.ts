// Checks at DAG parse time what Kubernetes would refuse only when the task runs: a missing image,
// a resource quantity it cannot read, requests above limits, a GPU asked for without a limit.
// Values that are templates or mapped (`expand`) are checked by the API server at run time.
import { UpdraftError } from "../../../common/errors.js";
import { MAPPED_VALUE } from "../../mapping.js";
import { isXComArg } from "../../xcom-arg.js";

/** A Kubernetes quantity: `2`, `500m`, `4Gi`, `1.5`, `1e3`. */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+|E[+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A value decided only when the task runs: a template, a mapped value, another task's output. */
export function isDeferred(value: unknown): boolean {
  return (
    value === MAPPED_VALUE ||
    isXComArg(value) ||
    (typeof value === "string" && (value.includes("{{") || value.includes("{%")))
  );
}

/** The quantity as a number, or undefined when it is not one. */
export function parseQuantity(q: string): number | undefined {
  const m = QUANTITY.exec(q);
  if (m === null) return undefined;
  const number = Number(m[1]);
  const unit = m[3];
  if (unit === undefined) return number;
  if (/^[eE]/.test(unit)) return Number(`${m[1]}${unit}`);
  return number * (SUFFIX[unit] ?? 1);
}

/** Extended resources (a vendor domain: `nvidia.com/gpu`) cannot be overcommitted. */
function isExtended(resource: string): boolean {
  return (
    resource.includes("/") && !resource.startsWith("kubernetes.io/") && !resource.startsWith("requests.")
  );
}

export class OptionChecker {
  constructor(
    private readonly operator: string,
    private readonly taskId: string,
  ) {}

  fail(message: string): never {
    throw new UpdraftError("INVALID_TASK", `${this.operator} "${this.taskId}": ${message}`);
  }

  /** A string that is there and not empty (unless mapped or from another task). */
  requiredString(name: string, value: unknown, example: string): void {
    if (value === MAPPED_VALUE || isXComArg(value)) return;
    if (typeof value !== "string" || value.trim() === "") this.fail(`${name} is required: ${example}.`);
  }

  optionalString(name: string, value: unknown): void {
    if (value === undefined || isDeferred(value)) return;
    if (typeof value !== "string" || value.trim() === "")
      this.fail(`${name} must be a non-empty string, got ${JSON.stringify(value)}.`);
  }

  optionalBoolean(name: string, value: unknown): void {
    if (value !== undefined && value !== MAPPED_VALUE && typeof value !== "boolean")
      this.fail(`${name} must be true or false, got ${JSON.stringify(value)}.`);
  }

  positiveNumber(name: string, value: unknown): void {
    if (value === undefined || value === MAPPED_VALUE) return;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
      this.fail(`${name} must be a number of seconds above 0, got ${JSON.stringify(value)}.`);
  }

  stringList(name: string, value: unknown): void {
    if (value === undefined || isDeferred(value)) return;
    if (!Array.isArray(value)) this.fail(`${name} must be a list of strings, got ${JSON.stringify(value)}.`);
    for (const v of value as unknown[]) {
      if (typeof v !== "string" && typeof v !== "number" && !isDeferred(v))
        this.fail(`${name} must be a list of strings; ${JSON.stringify(v)} is not one.`);
    }
  }

  stringMap(name: string, value: unknown): void {
    if (value === undefined || isDeferred(value)) return;
    if (typeof value !== "object" || value === null || Array.isArray(value))
      this.fail(`${name} must be an object of strings, e.g. { KEY: "value" }; got ${JSON.stringify(value)}.`);
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean" && !isDeferred(v))
        this.fail(`${name}.${k} must be a string, got ${JSON.stringify(v)}.`);
    }
  }

  namespace(value: unknown): void {
    if (value === undefined || isDeferred(value)) return;
    if (typeof value !== "string" || !DNS_LABEL.test(value))
      this.fail(
        `namespace ${JSON.stringify(value)} is not a valid namespace name (lower-case letters, digits and "-", at most 63).`,
      );
  }

  /** requests/limits of quantities; requests not above limits; extended resources (GPUs) with equal limits. */
  resources(value: unknown): void {
    if (value === undefined || isDeferred(value)) return;
    if (typeof value !== "object" || value === null || Array.isArray(value))
      this.fail(`resources must be { requests?: {...}, limits?: {...} }, got ${JSON.stringify(value)}.`);
    const r = value as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (key !== "requests" && key !== "limits")
        this.fail(
          `resources has "${key}"; only requests and limits are allowed, e.g. { requests: { cpu: "2", memory: "4Gi" }, limits: { memory: "8Gi" } }.`,
        );
    }
    const parsed: Record<"requests" | "limits", Map<string, number>> = {
      requests: new Map(),
      limits: new Map(),
    };
    for (const kind of ["requests", "limits"] as const) {
      const map = r[kind];
      if (map === undefined || isDeferred(map)) continue;
      if (typeof map !== "object" || map === null || Array.isArray(map))
        this.fail(
          `resources.${kind} must be an object such as { cpu: "2", memory: "4Gi" }, got ${JSON.stringify(map)}.`,
        );
      for (const [res, q] of Object.entries(map as Record<string, unknown>)) {
        if (isDeferred(q)) continue;
        const n = typeof q === "number" ? q : typeof q === "string" ? parseQuantity(q.trim()) : undefined;
        if (n === undefined || n < 0)
          this.fail(
            `resources.${kind}["${res}"] = ${JSON.stringify(q)} is not a Kubernetes quantity (e.g. "500m" or "2" for cpu, "512Mi" or "4Gi" for memory).`,
          );
        if (isExtended(res) && !Number.isInteger(n))
          this.fail(
            `resources.${kind}["${res}"] must be a whole number (${res} cannot be split), got ${JSON.stringify(q)}.`,
          );
        parsed[kind].set(res, n);
      }
    }
    for (const [res, req] of parsed.requests) {
      const limit = parsed.limits.get(res);
      if (limit !== undefined && req > limit)
        this.fail(
          `resources.requests["${res}"] is above resources.limits["${res}"]; Kubernetes refuses such a Pod. Lower the request or raise the limit.`,
        );
      if (
        isExtended(res) &&
        limit === undefined &&
        !(r.limits !== undefined && isDeferred((r.limits as Record<string, unknown>)[res]))
      )
        this.fail(
          `resources.requests["${res}"] needs the same value in resources.limits: Kubernetes does not overcommit ${res}, e.g. limits: { "${res}": "${String(req)}" }.`,
        );
      if (isExtended(res) && limit !== undefined && limit !== req)
        this.fail(
          `resources.requests["${res}"] and resources.limits["${res}"] must be equal: Kubernetes does not overcommit ${res}.`,
        );
    }
  }

  tolerations(value: unknown): void {
    if (value === undefined || isDeferred(value)) return;
    if (!Array.isArray(value)) this.fail(`tolerations must be a list, got ${JSON.stringify(value)}.`);
    for (const t of value as Record<string, unknown>[]) {
      if (typeof t !== "object" || t === null)
        this.fail(`each toleration must be an object, got ${JSON.stringify(t)}.`);
      const op = t.operator ?? "Equal";
      if (op !== "Exists" && op !== "Equal")
        this.fail(`toleration operator must be "Exists" or "Equal", got ${JSON.stringify(op)}.`);
      if (op === "Exists" && t.value !== undefined && t.value !== "")
        this.fail(`a toleration with operator "Exists" takes no value (key ${JSON.stringify(t.key)}).`);
      if (
        t.effect !== undefined &&
        !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(String(t.effect))
      )
        this.fail(
          `toleration effect must be NoSchedule, PreferNoSchedule or NoExecute, got ${JSON.stringify(t.effect)}.`,
        );
      if (t.key === undefined && op !== "Exists")
        this.fail('a toleration without a key needs operator "Exists".');
    }
  }

  oneOf(name: string, value: unknown, allowed: readonly string[]): void {
    if (value === undefined || value === MAPPED_VALUE) return;
    if (typeof value !== "string" || !allowed.includes(value))
      this.fail(
        `${name} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${JSON.stringify(value)}.`,
      );
  }
}
