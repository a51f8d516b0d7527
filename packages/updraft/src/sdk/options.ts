import type { Asset, AssetSchedule } from "./assets.js";
import type { Duration } from "../common/duration.js";
import type { DeadlineAlert } from "./deadline.js";
import type { TaskContext } from "./context.js";
import type { TriggerRule, WeightRule } from "./trigger-rule.js";

/** A function Updraft calls when a task or run finishes; it runs in a task runner, never in the scheduler. */
export type TaskCallback = (ctx: TaskContext) => void | Promise<void>;

/** What an SLA-miss callback receives. */
export interface SlaMiss {
  dag_id: string;
  run_id: string;
  /** Task ids that missed their SLA. */
  task_ids: string[];
}

/**
 * Options every task accepts, and which `defaultArgs` may set for all tasks of a DAG. Durations
 * are milliseconds or strings like `"5m"` or `"1h30m"`.
 *
 * @example
 * ```ts
 * const defaultArgs: TaskOptions = { owner: "data-engineering", retries: 3, retryDelay: "5m", retryExponentialBackoff: true };
 * ```
 */
export interface TaskOptions {
  /** Who is responsible for the task; shown in lists and used for filtering. Default `"updraft"`. */
  owner?: string;
  /** How many times a failed try is retried. Default 0. */
  retries?: number;
  /** Wait before a retry. Default 5 minutes. */
  retryDelay?: Duration;
  /** Double the wait after each failed try (with jitter), as Airflow does. */
  retryExponentialBackoff?: boolean;
  /** Upper bound of the wait when backing off exponentially. */
  maxRetryDelay?: Duration;
  /** A try that runs longer than this is failed (and retried if retries remain). */
  executionTimeout?: Duration;
  /** When the task may run given its upstream states. Default `all_success`. */
  triggerRule?: TriggerRule;
  /** Pool whose slots the task takes. Default `default_pool`. */
  pool?: string;
  /** How many pool slots one instance takes. Default 1. */
  poolSlots?: number;
  /** Relative priority when slots are scarce. Default 1. */
  priorityWeight?: number;
  /** How the effective priority is computed. Default `downstream`. */
  weightRule?: WeightRule;
  /** Queue for queue-based executors. Default `default`. */
  queue?: string;
  /**
   * How long after the run's expected start (a scheduled run: the end of its data interval; any
   * other: its start) this task should be done. A miss is recorded once, emailed to `email`, and
   * calls the DAG's `slaMissCallback`, while the task still runs. Backfills have no SLA.
   */
  sla?: Duration;
  /** Addresses notified by email. */
  email?: string | string[];
  emailOnFailure?: boolean;
  emailOnRetry?: boolean;
  onFailureCallback?: TaskCallback;
  onSuccessCallback?: TaskCallback;
  onRetryCallback?: TaskCallback;
  /**
   * Called in the runner right before the task body runs, with its context (Airflow
   * `on_execute_callback`). A throw is logged and does not change the task's outcome.
   */
  onExecuteCallback?: TaskCallback;
  /**
   * Called when the task itself ends skipped while running: it threw `TaskSkipped`, or a bash
   * command exited with a `skipOnExitCode` (Airflow `on_skipped_callback`). Not called when the
   * scheduler skips the task (a branch, a trigger rule).
   */
  onSkippedCallback?: TaskCallback;
  /**
   * The executor that runs this task, when `core.executor` lists several (Airflow 2.10's
   * BaseOperator `executor`): `"LocalExecutor"`, `"KubernetesExecutor"` or `"QueueExecutor"`.
   * Unset: the first of `core.executor`. A name `core.executor` does not list is an import error.
   *
   * @example
   * ```ts
   * // core.executor = LocalExecutor,KubernetesExecutor: light tasks run locally, this one in a Pod.
   * const train = task({ taskId: "train", executor: "KubernetesExecutor" }, () => fit());
   * ```
   */
  executor?: string;
  /** Executor-specific settings, e.g. `{ podOverride: {...} }` for the Kubernetes executor. */
  executorConfig?: Record<string, unknown>;
  /** How many instances of this task may run at once across all runs (Airflow `max_active_tis_per_dag`). */
  maxActiveTisPerDag?: number;
  /**
   * How many instances of this task (its mapped instances) may run at once within one run
   * (Airflow `max_active_tis_per_dagrun`).
   */
  maxActiveTisPerDagrun?: number;
  /**
   * Run an instance only once the same task succeeded or was skipped in the previous run (by
   * logical date; with `catchup`, the previous run that is not manual). Airflow `depends_on_past`.
   * Default false.
   */
  dependsOnPast?: boolean;
  /**
   * With `dependsOnPast`: when the previous run has no instance of this task and the task never ran
   * in an earlier run (a task new to the DAG), do not wait. Airflow `ignore_first_depends_on_past`.
   * Default true (Airflow's `scheduler.ignore_first_depends_on_past_by_default`).
   */
  ignoreFirstDependsOnPast?: boolean;
  /**
   * Also wait until the direct downstream tasks of this task in the previous run succeeded or were
   * skipped; implies `dependsOnPast`. Airflow `wait_for_downstream`. Default false.
   */
  waitForDownstream?: boolean;
  /** Run this task in a fresh process instead of a warm runner. Default false. */
  freshProcess?: boolean;
  /** Earliest logical date for which this task runs. */
  startDate?: Date | string;
  endDate?: Date | string;
  /** Push the return value as XCom. Default true. */
  doXcomPush?: boolean;
  /**
   * The task returns a plain object whose properties are also pushed as separate XComs, keyed by
   * property name, besides `return_value` (Airflow `multiple_outputs`). Downstream tasks take one
   * with `result.get("name")`, typed from the return type. Returning anything but a plain object
   * (or null/undefined) fails the task. Default false.
   */
  multipleOutputs?: boolean;
  /**
   * For a mapped task: a template rendered after the task body to name each mapped instance in
   * the UI and API (`rendered_map_index`), e.g. `"{{ task.args[0] }}"` or `"{{ task.bashCommand }}"`
   * (Airflow `map_index_template`). It sees the template context, the task's rendered fields under
   * `task`, and properties the task body added to its context.
   */
  mapIndexTemplate?: string;
  /** Documentation shown in the UI. */
  docMd?: string;
  /** Assets this task updates: each success records an asset event (decision 0031). */
  outlets?: readonly Asset[];
  /** Assets this task reads (shown in the API; informational, as in Airflow). */
  inlets?: readonly Asset[];
}

/** The names of {@link TaskOptions}, used to reject typos such as `retires`. */
export const TASK_OPTION_NAMES = [
  "owner",
  "retries",
  "retryDelay",
  "retryExponentialBackoff",
  "maxRetryDelay",
  "executionTimeout",
  "triggerRule",
  "pool",
  "poolSlots",
  "priorityWeight",
  "weightRule",
  "queue",
  "sla",
  "email",
  "emailOnFailure",
  "emailOnRetry",
  "onFailureCallback",
  "onSuccessCallback",
  "onRetryCallback",
  "onExecuteCallback",
  "onSkippedCallback",
  "executor",
  "executorConfig",
  "maxActiveTisPerDag",
  "maxActiveTisPerDagrun",
  "dependsOnPast",
  "ignoreFirstDependsOnPast",
  "waitForDownstream",
  "freshProcess",
  "startDate",
  "endDate",
  "doXcomPush",
  "multipleOutputs",
  "mapIndexTemplate",
  "docMd",
  "outlets",
  "inlets",
] as const satisfies readonly (keyof TaskOptions)[];

/** JSON-schema-like validation of one DAG param. */
export interface ParamSpec<T = unknown> {
  default?: T;
  type?: ParamType | ParamType[];
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  title?: string;
  description?: string;
}
export type ParamType = "string" | "number" | "integer" | "boolean" | "object" | "array" | "null";

const PARAM_BRAND = Symbol.for("updraft.param");

/** A declared param; build it with {@link param}. */
export interface Param<T = unknown> extends ParamSpec<T> {
  readonly [PARAM_BRAND]: true;
}

/**
 * Declares a DAG param with a default and validation rules. A bare value in `params` is a param
 * with that default and no rules.
 *
 * @example
 * ```ts
 * dag({ dagId: "report", params: { limit: param(100, { type: "integer", minimum: 1, maximum: 1000 }) } }, () => {});
 * ```
 */
export function param<T>(defaultValue: T | undefined, spec: Omit<ParamSpec<T>, "default"> = {}): Param<T> {
  const p: ParamSpec<T> & { [PARAM_BRAND]: true } = { ...spec, [PARAM_BRAND]: true };
  if (defaultValue !== undefined) p.default = defaultValue;
  return p;
}

/** True for a value built by {@link param}. */
export function isParam(value: unknown): value is Param {
  return typeof value === "object" && value !== null && PARAM_BRAND in value;
}

/** A DAG-level callback: receives the context of the run's last finished task. */
export type DagCallback = (ctx: TaskContext) => void | Promise<void>;

/**
 * Options of a DAG. Only `dagId` is required; a DAG with a schedule also needs a `startDate`.
 *
 * @example
 * ```ts
 * const options: DagOptions = { dagId: "sales_pipeline", schedule: "0 6 * * *", startDate: "2026-01-01", catchup: false };
 * ```
 */
export interface DagOptions {
  /** Letters, digits, `-`, `_` and `.`; at most 250 characters. */
  dagId: string;
  description?: string;
  /**
   * A cron expression (`"0 6 * * *"`), a preset (`@once @hourly @daily @weekly @monthly @quarterly
   * @yearly`), a duration between runs (`"1h"`, or milliseconds), or `null` for manual runs only.
   * Data-aware (decision 0031): a list of assets (a run once every one was updated), an
   * `and(...)`/`or(...)` condition, or `{ timetable, assets }` (on the time or on the assets).
   * Default `null`.
   */
  schedule?: string | number | null | AssetSchedule;
  /** First logical date. A string is read as ISO 8601 in the DAG's timezone when it has no offset. */
  startDate?: Date | string;
  endDate?: Date | string;
  /** IANA timezone the schedule is evaluated in. Default `core.default_timezone` (UTC). */
  timezone?: string;
  /** Create runs for every missed interval since `startDate`. Default `false`. */
  catchup?: boolean;
  maxActiveRuns?: number;
  maxActiveTasks?: number;
  /** A run still going after this is failed. */
  dagrunTimeout?: Duration;
  tags?: string[];
  /** Params users may pass as `conf` when triggering; validated before the run is created. */
  params?: Record<string, unknown>;
  /** Options applied to every task of the DAG unless the task sets its own. */
  defaultArgs?: TaskOptions;
  onSuccessCallback?: DagCallback;
  onFailureCallback?: DagCallback;
  slaMissCallback?: (miss: SlaMiss) => void | Promise<void>;
  /**
   * Deadline alerts (Airflow 3.1's `deadline`): each run not finished by the alert's reference
   * plus its interval calls the alert's callback once, in a task runner, while the run still goes.
   */
  deadline?: DeadlineAlert | readonly DeadlineAlert[];
  /** Markdown documentation shown in the UI. */
  docMd?: string;
  /** Whether a new DAG starts paused. Default `core.dags_are_paused_at_creation`. */
  isPausedUponCreation?: boolean;
  /**
   * Airflow's `render_template_as_native_obj`: a template field whose rendered text is a Python
   * literal (`42`, `True`, `[1, 2]`, `{'a': 1}`, `None`) becomes that value (number, boolean,
   * array, object, null) instead of a string; a lone `{{ expr }}` keeps the value of `expr`.
   * Text that is not a literal stays a string. Default `false`.
   */
  renderTemplateAsNativeObj?: boolean;
  /**
   * Airflow's `user_defined_macros`: values and functions templates can use by name,
   * e.g. `{ env: "prod", bucket: (ds: string) => "s3://b/" + ds }` for `{{ bucket(ds) }}`.
   * Names of the task context (`ds`, `params`, …) take precedence, as in Airflow.
   */
  userDefinedMacros?: Record<string, unknown>;
  /**
   * Airflow's `user_defined_filters`: functions templates can use as filters, e.g.
   * `{ upper_snake: (s: string) => s.toUpperCase().replace(/ /g, "_") }` for `{{ name | upper_snake }}`.
   * The filter receives the value, then any arguments (`{{ x | f(1) }}` calls `f(x, 1)`).
   */
  userDefinedFilters?: Record<string, (value: never, ...args: never[]) => unknown>;
  /**
   * When a task instance fails, fail the run's running task instances and skip the others that are
   * not done (teardowns go on). Every task but teardowns must keep the `all_success` trigger rule.
   * Airflow `fail_stop`. Default false.
   */
  failStop?: boolean;
  /**
   * Pause the DAG after this many consecutive failed runs; 0 turns it off. Airflow
   * `max_consecutive_failed_dag_runs`. Default `core.max_consecutive_failed_dag_runs_per_dag` (0).
   */
  maxConsecutiveFailedDagRuns?: number;
}

export const DAG_OPTION_NAMES = [
  "dagId",
  "description",
  "schedule",
  "startDate",
  "endDate",
  "timezone",
  "catchup",
  "maxActiveRuns",
  "maxActiveTasks",
  "dagrunTimeout",
  "tags",
  "params",
  "defaultArgs",
  "onSuccessCallback",
  "onFailureCallback",
  "slaMissCallback",
  "deadline",
  "docMd",
  "isPausedUponCreation",
  "renderTemplateAsNativeObj",
  "userDefinedMacros",
  "userDefinedFilters",
  "failStop",
  "maxConsecutiveFailedDagRuns",
] as const satisfies readonly (keyof DagOptions)[];
