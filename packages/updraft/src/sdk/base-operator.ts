import { UpdraftError } from "../common/errors.js";
import { currentFrame } from "./build-context.js";
import { CallSite } from "./call-site.js";
import { checkOptionNames } from "./check-options.js";
import type { TaskContext } from "./context.js";
import type { Dag } from "./dag.js";
import { TASK_OPTION_NAMES, type TaskOptions } from "./options.js";
import type { TaskGroup } from "./task-group.js";
import { TaskDeferred, type DeferOptions } from "./signals.js";

/** Anything that can stand on either side of a dependency: a task, a task's output, a group. */
export interface GraphNode {
  /** Tasks that receive the edges when something is placed upstream of this node. */
  roots(): BaseOperator[];
  /** Tasks that send the edges when something is placed downstream of this node. */
  leaves(): BaseOperator[];
}

/** One node, or several that are wired alike. */
export type Wireable = GraphNode | readonly GraphNode[];

function asNodes(w: Wireable): readonly GraphNode[] {
  return Array.isArray(w) ? w : [w as GraphNode];
}

/** Adds edges from every leaf of `from` to every root of `to`. */
export function wire(from: Wireable, to: Wireable): void {
  for (const f of asNodes(from)) {
    for (const t of asNodes(to)) {
      for (const up of f.leaves()) for (const down of t.roots()) up.addDownstream(down);
    }
  }
}

/** What an operator's `execute` receives from the task runner. */
export interface ExecuteInput {
  ctx: TaskContext;
  /** The operator's fields with templates rendered and XCom references resolved. */
  fields: Record<string, unknown>;
  /** Aborted when the try is cancelled or times out. */
  signal: AbortSignal;
  /**
   * Renders a template with the scope of the task's templated fields (Airflow renders files named
   * by a field with a `template_ext` extension so): `field` names it in errors. Variables and
   * connections a file names must also appear in a templated field to be fetched.
   */
  render?: (template: string, field: string) => string;
  /**
   * Set when this run of the try resumes a deferral: the trigger's event, and the kwargs given to
   * `defer` (decision 0030). The method named by `defer` is called, not `execute` (unless named).
   */
  resume?: ResumeInput;
  /**
   * A sensor in mode "reschedule": when the first poke of this try started, and how many pokes
   * came before (the sensor's timeout counts from that start across reschedules).
   */
  reschedules?: { firstPokeAt: Date; count: number };
}

/** What a resumed deferral gets (Airflow's next_method / next_kwargs with the event). */
export interface ResumeInput {
  method: string;
  event: unknown;
  kwargs: Record<string, unknown>;
}

/** Fields whose values are given by `expand`, per mapped instance. */
export interface MappedInput {
  /** Field name (or TaskFlow argument position as `"0"`, `"1"`, …) → list or XCom reference. */
  expand: Record<string, unknown>;
}

const OPERATOR_BRAND = Symbol.for("updraft.operator");

/** How long the runner waits for {@link BaseOperator.onKill}. */
export const ON_KILL_TIMEOUT_MS = 30_000;

/**
 * The base of every task. Subclasses declare their `templateFields` and implement `execute`.
 * Tasks attach to the DAG (and task group) whose body creates them.
 *
 * @example
 * ```ts
 * class HelloOperator extends BaseOperator {
 *   readonly operatorName = "HelloOperator";
 *   readonly templateFields = ["name"] as const;
 *   constructor(options: TaskOptions & { taskId: string; name: string }) {
 *     super(options, { name: options.name });
 *   }
 *   async execute({ fields }: ExecuteInput) { console.log(`Hello ${String(fields.name)}`); }
 * }
 * ```
 */
export abstract class BaseOperator implements GraphNode {
  readonly [OPERATOR_BRAND] = true;
  /** The operator's type name as shown in the UI and `dags show`, e.g. `"BashOperator"`. */
  abstract readonly operatorName: string;
  /** Names of fields rendered as templates when the task runs. */
  abstract readonly templateFields: readonly string[];
  /** The full task id, prefixed by its task group ids. */
  readonly taskId: string;
  readonly dag: Dag;
  readonly group: TaskGroup | null;
  /** Task options after the DAG's (and group's) `defaultArgs` were applied. */
  readonly options: Readonly<TaskOptions>;
  /** Operator-specific arguments as written (before rendering). */
  readonly fields: Record<string, unknown>;
  readonly upstreamTaskIds = new Set<string>();
  readonly downstreamTaskIds = new Set<string>();
  readonly callSite = new CallSite();
  isSetup = false;
  isTeardown = false;
  /** A teardown whose failure fails the run (Airflow `on_failure_fail_dagrun`); see {@link asTeardown}. */
  onFailureFailDagrun = false;
  /** Set when the task is mapped with `expand`. */
  mapped: MappedInput | null = null;

  protected constructor(
    options: TaskOptions & { taskId: string },
    fields: Record<string, unknown>,
    extraOptionNames: readonly string[] = [],
  ) {
    const frame = currentFrame(`Task "${options.taskId}"`);
    const { taskId, ...taskOptions } = options;
    const known = [...TASK_OPTION_NAMES, ...extraOptionNames];
    checkOptionNames(taskOptions, known, `Task "${taskId}"`);
    this.dag = frame.dag;
    this.group = frame.group;
    this.taskId = frame.group ? frame.group.childId(taskId) : taskId;
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(taskOptions)) {
      if (v !== undefined && (TASK_OPTION_NAMES as readonly string[]).includes(k)) own[k] = v;
    }
    this.options = { ...this.dag.options.defaultArgs, ...frame.group?.defaultArgs, ...own };
    this.fields = fields;
    this.dag.addTask(this);
    frame.group?.addTask(this);
  }

  /** Runs the task. Called by the task runner only; the return value is pushed as XCom. */
  abstract execute(input: ExecuteInput): Promise<unknown>;

  /**
   * Called by the task runner when a running try is stopped from outside (its execution timeout,
   * SIGTERM, marked failed or cleared elsewhere), before it reports the try and exits: Airflow's
   * `on_kill`. Release what `execute` started outside this process (a Pod, a remote job). The
   * runner waits for it at most {@link ON_KILL_TIMEOUT_MS}; `execute`'s signal is aborted already.
   */
  onKill?(): Promise<void> | void;

  /**
   * Ends this run of the try as `deferred` (Airflow's `self.defer`): the runner exits and frees its
   * slot, the triggerer waits on `trigger`, and when it fires the runner calls `method` (default
   * `execute`) with `input.resume` set — the same try, not a new one. A trigger that times out
   * fails the task (see {@link deferralTimedOut}).
   */
  protected defer(options: DeferOptions): never {
    const method = options.method ?? "execute";
    if (typeof (this as unknown as Record<string, unknown>)[method] !== "function")
      throw new UpdraftError(
        "TASK_DEFERRAL_INVALID",
        `Task "${this.taskId}" defers to method "${method}", which ${this.operatorName} does not have: name a method of the operator.`,
      );
    throw new TaskDeferred({ ...options, method });
  }

  /**
   * The error a try ends with when its trigger timed out; by default a failure that retries (as
   * Airflow's TaskDeferralTimeout). Sensors fail without retry, or skip with softFail.
   */
  deferralTimedOut(message: string): Error {
    return new UpdraftError("TASK_DEFERRAL_TIMEOUT", message);
  }

  roots(): BaseOperator[] {
    return [this];
  }
  leaves(): BaseOperator[] {
    return [this];
  }

  /** @internal Adds one edge; `before`/`after`/`chain` are the public ways. */
  addDownstream(other: BaseOperator): void {
    if (other.dag !== this.dag) {
      throw new UpdraftError(
        "CROSS_DAG_DEPENDENCY",
        `Cannot make "${other.taskId}" (DAG "${other.dag.dagId}") depend on "${this.taskId}" (DAG "${this.dag.dagId}"): tasks can only depend on tasks of the same DAG.`,
      );
    }
    this.downstreamTaskIds.add(other.taskId);
    other.upstreamTaskIds.add(this.taskId);
  }

  /**
   * Makes `next` run after this task (Airflow's `this >> next`). Returns `next` so calls chain.
   *
   * @example
   * ```ts
   * extract.before(transform).before(load);
   * ```
   */
  before<T extends Wireable>(next: T): T {
    wire(this, next);
    return next;
  }

  /**
   * Makes this task run after `previous` (Airflow's `this << previous`). Returns `previous`.
   *
   * @example
   * ```ts
   * load.after([transformUsers, transformOrders]);
   * ```
   */
  after<T extends Wireable>(previous: T): T {
    wire(previous, this);
    return previous;
  }

  /**
   * Marks the task as a setup task: teardowns that name it run even when work fails.
   *
   * @example
   * ```ts
   * const cluster = new BashOperator({ taskId: "create_cluster", bashCommand: "..." }).asSetup();
   * ```
   */
  asSetup(): this {
    this.isSetup = true;
    return this;
  }

  /**
   * Marks the task as a teardown: it runs once its setups are done, whatever happened in between,
   * and by default its failure does not fail the run; with `onFailureFailDagrun: true` (Airflow
   * `on_failure_fail_dagrun`) a failed teardown fails the run.
   *
   * @example
   * ```ts
   * new BashOperator({ taskId: "delete_cluster", bashCommand: "..." }).asTeardown({ setups: cluster });
   * ```
   */
  asTeardown(options: TeardownOptions = {}): this {
    this.isTeardown = true;
    this.onFailureFailDagrun = options.onFailureFailDagrun ?? false;
    if (this.options.triggerRule === undefined) {
      (this.options as TaskOptions).triggerRule = "all_done_setup_success";
    }
    if (options.setups) wire(options.setups, this);
    return this;
  }
}

/** Options of {@link BaseOperator.asTeardown}. */
export interface TeardownOptions {
  /** Setups this teardown belongs to (they become its upstream). */
  setups?: Wireable;
  /** A failure of this teardown fails the run (Airflow `on_failure_fail_dagrun`). Default false. */
  onFailureFailDagrun?: boolean;
}

/** True for any operator instance, even from another copy of the SDK. */
export function isOperator(value: unknown): value is BaseOperator {
  return typeof value === "object" && value !== null && OPERATOR_BRAND in value;
}
