// The XCom part of a successful try's finish request: the return value, and for a task with
// multipleOutputs one XCom per property of the returned object. They travel in the finish itself
// (one request), and the server stores them in the statement that records the success.
import { UpdraftError } from "../common/errors.js";
import type { FinishRequest, TaskWorkload } from "../model/execution-api.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { TryLog } from "./finish.js";

/** XComs above this size are logged with a warning: the metadata database is no blob store. */
export const XCOM_WARN_BYTES = 48 * 1024;

/** `result` as the JSON data stored, or UpdraftError XCOM_NOT_SERIALIZABLE naming what to do. */
function asJson(w: TaskWorkload, result: unknown): { value: unknown; text: string } {
  let text: string | undefined;
  try {
    text = JSON.stringify(result);
  } catch (err) {
    throw new UpdraftError(
      "XCOM_NOT_SERIALIZABLE",
      `The return value of task "${w.ti.task_id}" cannot be stored as XCom: ${err instanceof Error ? err.message : String(err)}. Return plain JSON data, or set doXcomPush: false.`,
    );
  }
  if (text === undefined) {
    throw new UpdraftError(
      "XCOM_NOT_SERIALIZABLE",
      `The return value of task "${w.ti.task_id}" is a ${typeof result}, which cannot be stored as XCom. Return plain JSON data, or set doXcomPush: false.`,
    );
  }
  // Sent as parsed JSON: what is stored is exactly what JSON can carry (no undefined, no methods).
  return { value: JSON.parse(text) as unknown, text };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Sets `return_value` (and `xcoms` for multipleOutputs) on a success request. As Airflow's
 * taskinstance.py `_execute_task`: nothing is pushed with doXcomPush false or a null/undefined
 * result; with multiple_outputs a result that is not a mapping fails the task, else each key is
 * pushed as its own XCom besides return_value. (Updraft keeps storing a null result, as before.)
 */
export function addXcoms(
  req: FinishRequest,
  w: TaskWorkload,
  task: BaseOperator,
  result: unknown,
  log: TryLog,
): void {
  if (task.options.doXcomPush === false || result === undefined) return;
  // null is still stored as return_value (a downstream argument may take it); it has no keys.
  if (task.options.multipleOutputs === true && result !== null && !isPlainObject(result)) {
    const what = Array.isArray(result) ? "an array" : `a ${typeof result}`;
    throw new UpdraftError(
      "INVALID_MULTIPLE_OUTPUTS",
      `Task "${w.ti.task_id}" has multipleOutputs: true but returned ${what}; it must return a plain object (its properties become XComs). Return an object, or remove multipleOutputs.`,
    );
  }
  const { value, text } = asJson(w, result);
  const bytes = Buffer.byteLength(text);
  if (bytes > XCOM_WARN_BYTES) {
    log(
      "WARNING",
      `The return value is ${(bytes / 1024).toFixed(1)} KB of JSON, above ${XCOM_WARN_BYTES / 1024} KB. XComs live in the metadata database: store large data elsewhere (object storage, a table) and return a reference.`,
    );
  }
  req.return_value = { value };
  if (Array.isArray(result)) req.return_value_length = result.length;
  if (task.options.multipleOutputs === true && isPlainObject(value)) {
    // JSON drops properties whose value is undefined (or a function): they are not pushed either.
    req.xcoms = Object.entries(value).map(([key, v]) => ({ key, value: v }));
  }
}
