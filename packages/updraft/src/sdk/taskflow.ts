import { UpdraftError } from "../common/errors.js";
import { BaseOperator, wire, type ExecuteInput } from "./base-operator.js";
import { currentFrame } from "./build-context.js";
import type { TaskContext } from "./context.js";
import { checkOptionNames } from "./check-options.js";
import { checkExpand } from "./mapping.js";
import { TASK_OPTION_NAMES, type TaskOptions } from "./options.js";
import { runBash } from "./operators/run-bash.js";
import { isXComArg, XComArg, type XComInput } from "./xcom-arg.js";

/** How a TaskFlow task's result is used: a value, task ids to follow, a go/no-go, a bash command. */
export type TaskFlowKind = "task" | "branch" | "short_circuit" | "bash";

const DISPLAY_NAME: Record<TaskFlowKind, string> = {
  task: "@task",
  branch: "@task.branch",
  short_circuit: "@task.short_circuit",
  bash: "@task.bash",
};

/** Options of a TaskFlow task: every task option, and its id (default: the function's name). */
export interface TaskFlowOptions extends TaskOptions {
  taskId?: string;
}

/** Options of `task.shortCircuit`. */
export interface ShortCircuitOptions extends TaskFlowOptions {
  /**
   * On a falsy result, skip every task downstream (true), or only the direct downstream tasks and
   * let the trigger rules of the tasks after them decide (false). Airflow
   * `ignore_downstream_trigger_rules` of ShortCircuitOperator. Default true.
   */
  ignoreDownstreamTriggerRules?: boolean;
}

/** Options of `task.teardown`. */
export interface TeardownTaskOptions extends TaskFlowOptions {
  /** A failure of this teardown fails the run (Airflow `on_failure_fail_dagrun`). Default false. */
  onFailureFailDagrun?: boolean;
}

/** Options only some TaskFlow variants accept (kept on the operator, not in TaskOptions). */
interface VariantOptions {
  ignoreDownstreamTriggerRules?: boolean;
  onFailureFailDagrun?: boolean;
}

/** Each argument may be a value or another task's output of the same type. */
export type TaskArgs<A extends readonly unknown[]> = { [K in keyof A]: XComInput<A[K]> };
/** Each argument given as a list to map over (or another task's list output). */
export type TaskLists<A extends readonly unknown[]> = {
  [K in keyof A]: readonly A[K][] | XComArg<readonly A[K][]>;
};
type Take<A extends readonly unknown[], P extends readonly unknown[]> = P extends readonly [
  unknown,
  ...infer PT,
]
  ? A extends readonly [infer AH, ...infer AT]
    ? [AH, ...Take<AT, PT>]
    : []
  : [];
type Drop<A extends readonly unknown[], P extends readonly unknown[]> = P extends readonly [
  unknown,
  ...infer PT,
]
  ? A extends readonly [unknown, ...infer AT]
    ? Drop<AT, PT>
    : []
  : A;

/**
 * A TaskFlow task: call it inside a DAG body to add a task instance to the DAG; the call returns
 * an {@link XComArg} for its future return value.
 */
export interface TaskFn<A extends unknown[], R> {
  (...args: TaskArgs<A>): XComArg<R>;
  /** The task id the next call will use (later calls get `__1`, `__2`… suffixes). */
  readonly taskId: string;
  /**
   * Maps the task over lists: one instance per element (the cross product for several lists).
   *
   * @example
   * ```ts
   * const sizes = measure.expand(listFiles()); // XComArg<number[]>
   * ```
   */
  expand(...lists: TaskLists<A>): XComArg<R[]>;
  /**
   * Fixes the first arguments; `expand` then maps over the rest.
   *
   * @example
   * ```ts
   * add.partial(10).expand([1, 2, 3]); // add(10, 1), add(10, 2), add(10, 3)
   * ```
   */
  partial<P extends unknown[]>(
    ...args: P & TaskArgs<Take<A, P>>
  ): { expand(...lists: TaskLists<Drop<A, P>>): XComArg<R[]> };
  /**
   * A copy with other options, e.g. another task id for a second use.
   *
   * @example
   * ```ts
   * const loadEu = load.override({ taskId: "load_eu", pool: "eu_warehouse" });
   * ```
   */
  override(options: TaskFlowOptions): TaskFn<A, R>;
}

/** The operator behind a TaskFlow task. */
export class TaskFlowOperator extends BaseOperator {
  readonly operatorName: string;
  readonly templateFields = ["args"] as const;
  readonly kind: TaskFlowKind;
  readonly fn: (ctx: TaskContext, ...args: unknown[]) => unknown;
  /** For a short-circuit: skip everything downstream on a falsy result (else the direct downstream only). */
  ignoreDownstreamTriggerRules = true;

  constructor(
    options: TaskOptions & { taskId: string },
    kind: TaskFlowKind,
    fn: (ctx: TaskContext, ...args: unknown[]) => unknown,
    args: unknown[],
  ) {
    super(options, { args });
    this.kind = kind;
    this.fn = fn;
    this.operatorName = DISPLAY_NAME[kind];
  }

  async execute({ ctx, fields, signal, resume }: ExecuteInput): Promise<unknown> {
    const args = Array.isArray(fields.args) ? (fields.args as unknown[]) : [];
    // A resumed deferral (deferTask) runs the function again with the trigger's event.
    const result = await this.fn(
      resume === undefined ? ctx : { ...ctx, trigger_event: resume.event },
      ...args,
    );
    if (this.kind === "bash") {
      if (typeof result !== "string" || result.trim() === "") {
        throw new UpdraftError(
          "INVALID_BASH_COMMAND",
          `@task.bash "${this.taskId}" must return a non-empty command string, got ${JSON.stringify(result)}.`,
        );
      }
      return runBash(result, { signal });
    }
    return result;
  }
}

/** Walks nested arrays and plain objects for XCom references (they make dependencies). */
function xcomArgsIn(value: unknown, out: XComArg<unknown>[] = []): XComArg<unknown>[] {
  if (isXComArg(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) xcomArgsIn(v, out);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) xcomArgsIn(v, out);
  }
  return out;
}

/** A free task id in the current DAG: Airflow adds `__1`, `__2`… when a task is called again. */
function freeTaskId(base: string): string {
  const { dag, group } = currentFrame(`Task "${base}"`);
  const full = (id: string) => (group ? group.childId(id) : id);
  if (!dag.tasks.has(full(base))) return base;
  for (let i = 1; ; i++) if (!dag.tasks.has(full(`${base}__${i}`))) return `${base}__${i}`;
}

type AnyTaskBody = (ctx: TaskContext, ...args: unknown[]) => unknown;

function makeTaskFn<A extends unknown[], R>(
  kind: TaskFlowKind,
  options: TaskFlowOptions,
  fn: AnyTaskBody,
): TaskFn<A, R> {
  const baseId = options.taskId ?? fn.name;
  if (!baseId) {
    throw new UpdraftError(
      "MISSING_TASK_ID",
      'A task needs an id: task("my_task", fn), task({ taskId: "my_task" }, fn), or a named function.',
    );
  }
  const {
    taskId: _ignored,
    ignoreDownstreamTriggerRules,
    onFailureFailDagrun,
    ...taskOptions
  } = options as TaskFlowOptions & VariantOptions;
  const create = (args: unknown[]): TaskFlowOperator => {
    const op = new TaskFlowOperator({ ...taskOptions, taskId: freeTaskId(baseId) }, kind, fn, args);
    if (ignoreDownstreamTriggerRules !== undefined)
      op.ignoreDownstreamTriggerRules = ignoreDownstreamTriggerRules;
    if (onFailureFailDagrun !== undefined) op.onFailureFailDagrun = onFailureFailDagrun;
    for (const ref of xcomArgsIn(args)) wire(ref, op);
    return op;
  };
  const mapped = (fixed: unknown[], lists: unknown[]): XComArg<R[]> => {
    const op = create([...fixed, ...lists.map(() => undefined)]);
    const expand: Record<string, unknown> = {};
    lists.forEach((list, i) => (expand[String(fixed.length + i)] = list));
    checkExpand(op.taskId, op.operatorName, expand, Object.keys(expand));
    op.mapped = { expand };
    for (const ref of xcomArgsIn(lists)) wire(ref, op);
    return new XComArg<R[]>(op);
  };
  const call = (...args: unknown[]) => new XComArg<R>(create(args));
  return Object.assign(call, {
    taskId: baseId,
    expand: (...lists: unknown[]) => mapped([], lists),
    partial: (...fixed: unknown[]) => ({ expand: (...lists: unknown[]) => mapped(fixed, lists) }),
    override: (more: TaskFlowOptions) => makeTaskFn<A, R>(kind, { ...options, ...more }, fn),
  }) as unknown as TaskFn<A, R>;
}

type Body<P extends Record<string, unknown>, A extends unknown[], R> = (ctx: TaskContext<P>, ...args: A) => R;

function factory<O extends TaskFlowOptions = TaskFlowOptions>(
  kind: TaskFlowKind,
  extraOptionNames: readonly (keyof VariantOptions)[] = [],
) {
  function define<A extends unknown[], R, P extends Record<string, unknown> = Record<string, unknown>>(
    fn: Body<P, A, R>,
  ): TaskFn<A, Awaited<R>>;
  function define<A extends unknown[], R, P extends Record<string, unknown> = Record<string, unknown>>(
    idOrOptions: string | O,
    fn: Body<P, A, R>,
  ): TaskFn<A, Awaited<R>>;
  function define(a: unknown, b?: unknown): unknown {
    const fn = (typeof a === "function" ? a : b) as AnyTaskBody;
    if (typeof fn !== "function") {
      throw new UpdraftError("INVALID_TASK", 'task() needs a function: task("my_task", (ctx) => { ... }).');
    }
    const options: TaskFlowOptions =
      typeof a === "string" ? { taskId: a } : typeof a === "object" && a ? (a as TaskFlowOptions) : {};
    checkOptionNames(
      options,
      ["taskId", ...TASK_OPTION_NAMES, ...extraOptionNames],
      `Task "${options.taskId ?? fn.name}"`,
    );
    return makeTaskFn(kind, options, fn);
  }
  return define;
}

const plain = factory("task");

/**
 * Declares a TaskFlow task from a function. The function receives the run's
 * {@link TaskContext} first, then the arguments given when the task is called in a DAG body;
 * its return value is pushed as XCom and typed for downstream tasks.
 *
 * Variants: `task.branch` (return the task id(s) to follow; other direct downstream tasks are
 * skipped), `task.shortCircuit` (return false to skip everything downstream), `task.bash`
 * (return a bash command to run), `task.setup` / `task.teardown`.
 *
 * @example
 * ```ts
 * const extract = task("extract", (ctx) => JSON.stringify(rowsFor(ctx.ds)));
 * const load = task("load", (_ctx, raw: string) => JSON.parse(raw).length);
 * dag({ dagId: "etl" }, () => { load(extract()); });
 * ```
 */
export const task = Object.assign(plain, {
  /**
   * A task that returns the id (or ids) of the direct downstream task(s) to run; the others are skipped.
   *
   * @example
   * ```ts
   * const choose = task.branch("choose", (ctx) => (ctx.params.full ? "full_load" : "incremental_load"));
   * ```
   */
  branch: factory("branch"),
  /**
   * A task that returns a truthy value to go on, or a falsy one (as Python judges it: false, null,
   * undefined, 0, "", an empty array or object) to skip all downstream tasks — with
   * `ignoreDownstreamTriggerRules: false`, only the direct downstream ones. Teardowns are never
   * skipped.
   *
   * @example
   * ```ts
   * const isWeekday = task.shortCircuit("is_weekday", (ctx) => ctx.logical_date.getUTCDay() % 6 !== 0);
   * ```
   */
  shortCircuit: factory<ShortCircuitOptions>("short_circuit", ["ignoreDownstreamTriggerRules"]),
  /**
   * A task whose function returns a bash command, which is then run like a BashOperator.
   *
   * @example
   * ```ts
   * const list = task.bash("list", (ctx) => `ls /data/${ctx.ds}`);
   * ```
   */
  bash: factory("bash"),
  /**
   * A TaskFlow task marked as setup (see `asSetup`).
   *
   * @example
   * ```ts
   * const createCluster = task.setup("create_cluster", () => provision());
   * ```
   */
  setup: asMarked(factory("task"), "setup"),
  /**
   * A TaskFlow task marked as teardown (see `asTeardown`).
   *
   * @example
   * ```ts
   * const deleteCluster = task.teardown("delete_cluster", () => destroy());
   * ```
   */
  teardown: asMarked(factory<TeardownTaskOptions>("task", ["onFailureFailDagrun"]), "teardown"),
});

function asMarked<F extends (...a: never[]) => unknown>(define: F, mark: "setup" | "teardown"): F {
  const wrapped = (...a: Parameters<F>) => {
    const fn = define(...a) as TaskFn<unknown[], unknown>;
    const call = (...args: unknown[]) => {
      const ref = (fn as unknown as (...x: unknown[]) => XComArg<unknown>)(...args);
      if (mark === "setup") ref.asSetup();
      else ref.asTeardown({ onFailureFailDagrun: ref.operator.onFailureFailDagrun });
      return ref;
    };
    return Object.assign(call, fn);
  };
  return wrapped as unknown as F;
}
