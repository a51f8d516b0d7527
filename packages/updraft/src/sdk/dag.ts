import { UpdraftError } from "../common/errors.js";
import type { BaseOperator } from "./base-operator.js";
import { withFrame } from "./build-context.js";
import { CallSite } from "./call-site.js";
import { checkOptionNames } from "./check-options.js";
import { validateId } from "./ids.js";
import { DAG_OPTION_NAMES, TASK_OPTION_NAMES, type DagOptions, type TaskOptions } from "./options.js";
import { registerDag } from "./registry.js";
import { checkTemplateOptions } from "./template-options.js";
import type { TaskGroup } from "./task-group.js";

/** A DAG after its options were checked; built by {@link dag}. */
export class Dag {
  readonly dagId: string;
  readonly options: Readonly<DagOptions & { defaultArgs: TaskOptions }>;
  /** Tasks by full task id, in creation order. */
  readonly tasks = new Map<string, BaseOperator>();
  readonly groups = new Map<string, TaskGroup>();
  readonly callSite = new CallSite();

  constructor(options: DagOptions) {
    if (typeof options !== "object" || options === null) {
      throw new UpdraftError(
        "INVALID_DAG",
        "dag() needs an options object as its first argument: dag({ dagId: ... }, () => { ... }).",
      );
    }
    validateId(options.dagId, "dag id");
    checkOptionNames(options, DAG_OPTION_NAMES, `DAG "${options.dagId}"`);
    if (options.defaultArgs) {
      checkOptionNames(options.defaultArgs, TASK_OPTION_NAMES, `defaultArgs of DAG "${options.dagId}"`);
    }
    checkTemplateOptions(options);
    this.dagId = options.dagId;
    this.options = { ...options, defaultArgs: options.defaultArgs ?? {} };
  }

  /** @internal */
  addTask(task: BaseOperator): void {
    validateId(task.taskId, `task id in DAG "${this.dagId}"`);
    if (this.tasks.has(task.taskId)) {
      throw new UpdraftError(
        "DUPLICATE_TASK_ID",
        `Task id "${task.taskId}" is used twice in DAG "${this.dagId}". Task ids must be unique within a DAG.`,
        { details: { task_id: task.taskId } },
      );
    }
    this.tasks.set(task.taskId, task);
  }

  /** A task by its full id, or undefined. */
  getTask(taskId: string): BaseOperator | undefined {
    return this.tasks.get(taskId);
  }
}

/**
 * Declares a DAG. Tasks created inside `body` belong to it; wire them with `before`/`after`,
 * `chain`, or by passing one task's output to another. Export the result from the DAG file.
 *
 * @example
 * ```ts
 * export default dag({ dagId: "hello", schedule: "@daily", startDate: "2026-01-01", catchup: false }, () => {
 *   const hello = new BashOperator({ taskId: "hello", bashCommand: "echo hello {{ ds }}" });
 *   const bye = new EmptyOperator({ taskId: "bye" });
 *   hello.before(bye);
 * });
 * ```
 */
export function dag(options: DagOptions, body: () => void): Dag {
  const d = new Dag(options);
  if (typeof body !== "function") {
    throw new UpdraftError(
      "INVALID_DAG",
      `DAG "${d.dagId}": dag() needs a body function as its second argument, where the tasks are created.`,
    );
  }
  withFrame({ dag: d, group: null }, body);
  if (options.failStop === true) checkFailStop(d);
  registerDag(d);
  return d;
}

/**
 * airflow/exceptions.py FailStopDagInvalidTriggerRule: with fail_stop every task keeps the
 * all_success trigger rule (a teardown's own rule aside: fail_stop never stops teardowns).
 */
function checkFailStop(d: Dag): void {
  const bad = [...d.tasks.values()].filter(
    (t) => !t.isTeardown && (t.options.triggerRule ?? "all_success") !== "all_success",
  );
  if (bad.length === 0) return;
  throw new UpdraftError(
    "INVALID_DAG",
    `DAG "${d.dagId}" has failStop: true, which needs every task to use the trigger rule "all_success", but ${bad
      .map((t) => `"${t.taskId}" uses "${t.options.triggerRule}"`)
      .join(", ")}. Remove those trigger rules or turn failStop off.`,
  );
}
