import { describeError, isUpdraftError } from "../common/errors.js";
import { findCycle } from "./graph.js";
import { normalizeParams } from "./params.js";
import type { SerializedDag } from "./serialized-dag.js";
import { isXComRef } from "./serialized-dag.js";

/** One reason a DAG is invalid, with a stable code and a message that says what to change. */
export interface DagProblem {
  code: string;
  message: string;
  /** The task concerned, if any. */
  taskId?: string;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (isXComRef(value)) out.push(value.__xcom__.task_id);
  else if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value !== null && typeof value === "object") for (const v of Object.values(value)) refsIn(v, out);
  return out;
}

/**
 * Structural checks of a serialized DAG that need the whole graph: cycles, dangling references,
 * a start date for scheduled DAGs. Option names, ids and duplicates are checked by the SDK when
 * the DAG is built; the schedule and timezone when it is serialized.
 */
export function validateSerializedDag(dag: SerializedDag): DagProblem[] {
  const problems: DagProblem[] = [];
  const ids = new Set(dag.tasks.map((t) => t.task_id));
  const cycle = findCycle(dag.tasks);
  if (cycle) {
    problems.push({
      code: "DAG_CYCLE",
      message: `DAG "${dag.dag_id}" has a dependency cycle: ${cycle.join(" -> ")}. Remove one of these edges.`,
    });
  }
  if (dag.schedule !== null && dag.schedule !== "@once" && dag.start_date === null) {
    const tasksWithStart = dag.tasks.every((t) => t.start_date !== null);
    if (!tasksWithStart) {
      problems.push({
        code: "MISSING_START_DATE",
        message: `DAG "${dag.dag_id}" has the schedule ${JSON.stringify(dag.schedule)} but no startDate. Add startDate (e.g. "2026-01-01") or set schedule: null for manual runs.`,
      });
    }
  }
  const paramProblem = problemOf(() => normalizeParams(dag.params));
  if (paramProblem)
    problems.push({ ...paramProblem, message: `DAG "${dag.dag_id}": ${paramProblem.message}` });
  for (const task of dag.tasks) {
    for (const ref of refsIn([task.fields, task.expand])) {
      if (!ids.has(ref)) {
        problems.push({
          code: "UNKNOWN_XCOM_SOURCE",
          taskId: task.task_id,
          message: `Task "${task.task_id}" uses the output of "${ref}", which is not a task of DAG "${dag.dag_id}".`,
        });
      }
    }
    if (task.pool_slots < 1) {
      problems.push({
        code: "INVALID_POOL_SLOTS",
        taskId: task.task_id,
        message: `Task "${task.task_id}": poolSlots must be at least 1.`,
      });
    }
  }
  return problems;
}

/** Runs a check and turns an UpdraftError into a problem; other errors propagate. */
export function problemOf(fn: () => void): DagProblem | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (isUpdraftError(err)) return { code: err.code, message: err.message };
    return { code: "INVALID_DAG", message: describeError(err) };
  }
}
