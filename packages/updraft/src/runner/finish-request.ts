// What a try reports when its body returned: success, with the branch's choice or the
// short-circuit's verdict, and the return value as XCom (carried by the finish itself, so a try
// costs one request less), plus the rendered-field records the API keeps.
import { UpdraftError } from "../common/errors.js";
import type { FinishRequest, TaskWorkload } from "../model/execution-api.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { Dag } from "../sdk/dag.js";
import type { TryLog } from "./finish.js";
import { addXcoms } from "./xcom-request.js";

export { XCOM_WARN_BYTES } from "./xcom-request.js";
/** Rendered fields longer than this are cut in the rendered-fields record, as Airflow does. */
const MAX_RENDERED_FIELD_CHARS = 4096;

/**
 * The branch's chosen ids: any task of the DAG, a task group id standing for its root tasks
 * (airflow/operators/branch.py BranchMixin expands groups; airflow/models/skipmixin.py
 * SkipMixin.skip_all_except accepts any task id of the DAG). An id the DAG does not have is an error.
 */
function followIds(dag: Dag, task: BaseOperator, result: unknown): string[] {
  const raw = result === null || result === undefined ? [] : Array.isArray(result) ? result : [result];
  const ids: string[] = [];
  const invalid: string[] = [];
  for (const r of raw) {
    if (typeof r !== "string") {
      throw new UpdraftError(
        "INVALID_BRANCH_RESULT",
        `Branch task "${task.taskId}" must return a task id, a task group id, a list of them, or null; got ${JSON.stringify(r)}.`,
      );
    }
    const group = dag.groups.get(r);
    if (group !== undefined) ids.push(...group.roots().map((t) => t.taskId));
    else if (dag.tasks.has(r)) ids.push(r);
    else invalid.push(r);
  }
  if (invalid.length > 0) {
    throw new UpdraftError(
      "INVALID_BRANCH_RESULT",
      `Branch task "${task.taskId}" returned ${invalid.map((i) => `"${i}"`).join(", ")}, which ${invalid.length > 1 ? "are neither tasks nor task groups" : "is neither a task nor a task group"} of DAG "${dag.dagId}". Its direct downstream tasks: ${[...task.downstreamTaskIds].join(", ") || "none"}.`,
    );
  }
  return [...new Set(ids)];
}

/**
 * Python's truth test (bool()), which ShortCircuitOperator applies to the condition: false, None,
 * zero, "", and empty lists, dicts and sets are falsy; everything else (NaN too) is truthy.
 */
export function isFalsy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return true;
  if (typeof value === "bigint") return value === 0n;
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map || value instanceof Set) return value.size === 0;
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) return Object.keys(value).length === 0;
  }
  return false;
}

/** The finish request of a try whose body returned `result`. */
export function successRequest(
  w: TaskWorkload,
  dag: Dag,
  task: BaseOperator,
  result: unknown,
  log: TryLog,
): FinishRequest {
  const req: FinishRequest = { state: "success" };
  const kind = (task as { kind?: unknown }).kind;
  if (kind === "branch") req.follow_task_ids = followIds(dag, task, result);
  if (kind === "short_circuit") {
    req.skip_downstream = isFalsy(result);
    if (req.skip_downstream) {
      const which =
        (task as { ignoreDownstreamTriggerRules?: unknown }).ignoreDownstreamTriggerRules === false
          ? "the direct downstream tasks"
          : "all downstream tasks";
      log("INFO", `Condition result is ${JSON.stringify(result) ?? "undefined"}: skipping ${which}.`);
    }
  }
  addXcoms(req, w, task, result, log);
  return req;
}

/** Rendered fields as the API keeps them: long values cut, as Airflow does. */
export function truncateRendered(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    let text: string | undefined;
    try {
      text = JSON.stringify(v);
    } catch {
      text = undefined;
    }
    if (text === undefined) out[k] = String(v);
    else if (text.length > MAX_RENDERED_FIELD_CHARS) {
      out[k] = `${text.slice(0, MAX_RENDERED_FIELD_CHARS)}… (truncated: ${text.length} characters)`;
    } else out[k] = v;
  }
  return out;
}

/** Nothing worth recording (e.g. a TaskFlow task without arguments): skip the request. */
export function allEmpty(fields: Record<string, unknown>): boolean {
  return Object.values(fields).every(
    (v) =>
      v === undefined ||
      v === null ||
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0),
  );
}
