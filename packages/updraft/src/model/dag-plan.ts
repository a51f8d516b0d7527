// Everything the engine derives from one serialized DAG, computed once per dag_hash and shared by
// the scheduler and the execution API: tasks in topological order with their upstreams, relevant
// setups, mapping sources and effective priority weights, the tasks that decide the run's state,
// the XComs each task's fields refer to, downstream closures, and the rows of a new run's task
// instances. Pure: the loader that reads serialized DAGs and caches plans is services/dag-cache.ts.
import { downstreamClosure, topologicalOrder } from "./graph.js";
import type { ParamSpec } from "./params.js";
import { effectivePriorityWeights, type WeightRule } from "./priority-weight.js";
import { isXComRef, type SerializedDag, type SerializedTask } from "./serialized-dag.js";
import { parseSchedule, type Timetable } from "./timetable.js";
import type { TriggerRule } from "./trigger-rules.js";

/** An XCom a mapped task expands over (its producer is always a direct upstream). */
export interface ExpandSource {
  taskId: string;
  key: string;
  /** The producer is mapped itself: its instances' values form the list. */
  producerMapped: boolean;
}

/** An XCom a task's fields refer to, and the key the runner looks it up by (`task|key|map_index`). */
export interface XComReference {
  taskId: string;
  key: string;
  /** The producer is mapped: the runner wants all its values as one list. */
  mapped: boolean;
  prefetchKey: string;
}

export interface TaskPlan {
  readonly task: SerializedTask;
  readonly id: string;
  readonly triggerRule: TriggerRule;
  readonly upstream: readonly string[];
  readonly downstream: readonly string[];
  /** Setups upstream of this task (not direct upstreams) that must succeed first (Airflow's setup constraint). */
  readonly indirectSetups: readonly string[];
  readonly mapped: boolean;
  /** Product of the literal lists' lengths (1 when every source is an XCom). */
  readonly literalCount: number;
  readonly xcomSources: readonly ExpandSource[];
  /** EmptyOperator without callbacks: set to success without the executor, as Airflow does. */
  readonly emptySuccess: boolean;
  readonly weight: number;
}

/** The static columns of a task instance when its run is created (map index -1, no state). */
export interface NewTaskInstanceRow {
  task_id: string;
  max_tries: number;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queue: string;
  operator: string;
  /** The task's `executor` option; null: the default executor (decision 0027). */
  executor: string | null;
}

export class DagPlan {
  readonly tasks: ReadonlyMap<string, TaskPlan>;
  /** Tasks in topological order: one sweep in this order reaches the fixpoint of trigger rules. */
  readonly order: readonly TaskPlan[];
  /** Position of each task in `order`. */
  readonly position: ReadonlyMap<string, number>;
  /** Tasks whose states decide the run's state (Airflow's effective leaves: teardowns ignored). */
  readonly runStateTasks: ReadonlySet<string>;
  readonly slaTasks: readonly { taskId: string; slaMs: number }[];
  readonly paramSpecs: Readonly<Record<string, ParamSpec>>;
  /** Tasks with depends_on_past (Airflow's PrevDagrunDep applies to them). Usually none. */
  readonly pastTasks: readonly TaskPlan[];
  /**
   * Tasks whose end in one run can let a depends_on_past instance of a later run go on: the
   * depends_on_past tasks themselves and, with wait_for_downstream, their direct downstream tasks.
   */
  readonly pastWatched: ReadonlySet<string>;
  private timetableCache: Timetable | undefined;
  private newTisJson: string | undefined;
  private readonly refs = new Map<string, readonly XComReference[]>();
  private readonly closures = new Map<string, readonly string[]>();

  constructor(
    readonly dag: SerializedDag,
    readonly hash: string,
  ) {
    const byId = new Map(dag.tasks.map((t) => [t.task_id, t]));
    const weights = effectivePriorityWeights(
      dag.tasks.map((t) => ({ ...t, weight_rule: t.weight_rule as WeightRule })),
    );
    const setups = dag.tasks.some((t) => t.is_setup) ? relevantSetups(dag.tasks, byId) : new Map();
    const plans = new Map<string, TaskPlan>();
    for (const t of dag.tasks) plans.set(t.task_id, taskPlan(t, byId, weights, setups.get(t.task_id) ?? []));
    this.tasks = plans;
    this.order = topologicalOrder(dag.tasks).map((id) => plans.get(id)!);
    this.position = new Map(this.order.map((t, i) => [t.id, i]));
    this.runStateTasks = effectiveLeaves(dag.tasks, byId);
    this.slaTasks = dag.tasks
      .filter((t) => t.sla_ms !== null)
      .map((t) => ({ taskId: t.task_id, slaMs: t.sla_ms ?? 0 }));
    this.paramSpecs = dag.params as Record<string, ParamSpec>;
    this.pastTasks = this.order.filter((tp) => tp.task.depends_on_past);
    const watched = new Set<string>();
    for (const tp of this.pastTasks) {
      watched.add(tp.id);
      if (tp.task.wait_for_downstream) for (const d of tp.downstream) watched.add(d);
    }
    this.pastWatched = watched;
  }

  task(taskId: string): SerializedTask | undefined {
    return this.tasks.get(taskId)?.task;
  }

  /** The task instance rows of a new run, in the DAG's task order. */
  newTaskInstances(): NewTaskInstanceRow[] {
    return this.dag.tasks.map((t) => this.newTaskInstance(t.task_id)!);
  }

  /** The row of one task's instance (map index -1) in a new run, or undefined for an unknown task. */
  newTaskInstance(taskId: string): NewTaskInstanceRow | undefined {
    const tp = this.tasks.get(taskId);
    if (tp === undefined) return undefined;
    const t = tp.task;
    return {
      task_id: t.task_id,
      // Airflow's meaning: the retries allowed (a try is retried while try_number <= max_tries).
      max_tries: t.retries,
      pool: t.pool,
      pool_slots: t.pool_slots,
      priority_weight: tp.weight,
      queue: t.queue,
      operator: t.operator,
      executor: t.executor ?? null,
    };
  }

  /** {@link newTaskInstances} as JSON, computed once (it is inserted with every new run). */
  newTaskInstancesJson(): string {
    return (this.newTisJson ??= JSON.stringify(this.newTaskInstances()));
  }

  timetable(defaultTimezone: string): Timetable {
    this.timetableCache ??= parseSchedule(this.dag.schedule, this.dag.timezone ?? defaultTimezone);
    return this.timetableCache;
  }

  /** XComs the task's fields and expansion refer to, deduplicated. */
  xcomReferences(taskId: string): readonly XComReference[] {
    let out = this.refs.get(taskId);
    if (out !== undefined) return out;
    const task = this.task(taskId);
    const found = new Map<string, XComReference>();
    const walk = (value: unknown): void => {
      if (isXComRef(value)) {
        const { task_id, key } = value.__xcom__;
        const mapped = (this.task(task_id)?.expand ?? null) !== null;
        const prefetchKey = `${task_id}|${key}|${mapped ? "" : "-1"}`;
        found.set(prefetchKey, { taskId: task_id, key, mapped, prefetchKey });
      } else if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
    };
    if (task !== undefined) {
      walk(task.fields);
      walk(task.expand);
    }
    out = [...found.values()];
    this.refs.set(taskId, out);
    return out;
  }

  /** Every task downstream of `taskId`, directly or not. */
  allDownstream(taskId: string): readonly string[] {
    let out = this.closures.get(taskId);
    if (out === undefined) {
      out = this.tasks.has(taskId) ? downstreamClosure(this.dag.tasks, taskId) : [];
      this.closures.set(taskId, out);
    }
    return out;
  }
}

function taskPlan(
  t: SerializedTask,
  byId: ReadonlyMap<string, SerializedTask>,
  weights: ReadonlyMap<string, number>,
  indirectSetups: readonly string[],
): TaskPlan {
  let literalCount = 1;
  const xcomSources: ExpandSource[] = [];
  for (const source of Object.values(t.expand ?? {})) {
    if (isXComRef(source)) {
      const { task_id, key } = source.__xcom__;
      xcomSources.push({
        taskId: task_id,
        key,
        producerMapped: (byId.get(task_id)?.expand ?? null) !== null,
      });
    } else if (Array.isArray(source)) {
      literalCount *= source.length;
    } else if (source !== null && typeof source === "object") {
      literalCount *= Object.keys(source).length;
    }
  }
  return {
    task: t,
    id: t.task_id,
    triggerRule: t.trigger_rule as TriggerRule,
    upstream: t.upstream_task_ids,
    downstream: t.downstream_task_ids,
    indirectSetups,
    mapped: t.expand !== null,
    literalCount,
    xcomSources,
    emptySuccess:
      t.operator === "EmptyOperator" &&
      t.expand === null &&
      !t.has_on_success_callback &&
      !t.has_on_failure_callback &&
      !t.has_on_retry_callback &&
      // airflow/models/dagrun.py: DagRun.schedule_tis runs an EmptyOperator with on_execute_callback.
      !t.has_on_execute_callback &&
      !t.has_on_skipped_callback &&
      // Airflow runs an EmptyOperator with outlets, so that its success records asset events.
      (t.outlets?.length ?? 0) === 0,
    weight: weights.get(t.task_id) ?? t.priority_weight,
  };
}

function closure(start: string, next: (id: string) => readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...next(start)];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...next(id));
  }
  return seen;
}

/**
 * Airflow's `get_upstreams_only_setups`, minus direct upstreams: the setups before a
 * (non-teardown) task that have no teardown or share a teardown downstream of the task.
 */
function relevantSetups(
  tasks: readonly SerializedTask[],
  byId: ReadonlyMap<string, SerializedTask>,
): Map<string, string[]> {
  const up = (id: string) => byId.get(id)?.upstream_task_ids ?? [];
  const down = (id: string) => byId.get(id)?.downstream_task_ids ?? [];
  const out = new Map<string, string[]>();
  for (const t of tasks) {
    if (t.is_teardown) continue;
    const downstreamTeardowns = new Set(
      [...closure(t.task_id, down)].filter((id) => byId.get(id)?.is_teardown),
    );
    const direct = new Set(t.upstream_task_ids);
    const relevant: string[] = [];
    for (const id of closure(t.task_id, up)) {
      const s = byId.get(id);
      if (s?.is_setup !== true || direct.has(id)) continue;
      const teardowns = s.downstream_task_ids.filter((d) => byId.get(d)?.is_teardown);
      if (teardowns.length === 0 || teardowns.some((d) => downstreamTeardowns.has(d))) relevant.push(id);
    }
    if (relevant.length > 0) out.set(t.task_id, relevant.sort());
  }
  return out;
}

/**
 * airflow/models/dagrun.py DagRun._tis_for_dagrun_state: the effective leaves decide the run's
 * state. A teardown is ignorable (neither a leaf nor hiding its upstream from being one) unless it
 * has on_failure_fail_dagrun.
 */
function effectiveLeaves(
  tasks: readonly SerializedTask[],
  byId: ReadonlyMap<string, SerializedTask>,
): Set<string> {
  const ignorable = (t: SerializedTask | undefined) => t?.is_teardown === true && !t.on_failure_fail_dagrun;
  const leaves = tasks
    .filter((t) => !ignorable(t) && t.downstream_task_ids.every((d) => ignorable(byId.get(d))))
    .map((t) => t.task_id);
  if (leaves.length > 0) return new Set(leaves);
  return new Set(tasks.filter((t) => t.downstream_task_ids.length === 0).map((t) => t.task_id));
}
