// What the scheduler derives from a serialized DAG, computed once per dag_hash: the tasks in
// topological order with their upstreams, relevant setups, mapping sources and effective
// priority weights, and the tasks whose states decide the run's state.
import type { Executor as Db } from "../db/index.js";
import { topologicalOrder } from "../model/graph.js";
import { effectivePriorityWeights, type WeightRule } from "../model/priority-weight.js";
import { isXComRef, type SerializedDag, type SerializedTask } from "../model/serialized-dag.js";
import { parseSchedule, type Timetable } from "../model/timetable.js";
import type { TriggerRule } from "../model/trigger-rules.js";
import { loadDag } from "../services/index.js";

/** An XCom a mapped task expands over (its producer is always a direct upstream). */
export interface ExpandSource {
  taskId: string;
  key: string;
  /** The producer is mapped itself: its instances' values form the list. */
  producerMapped: boolean;
}

export interface TaskPlan {
  readonly task: SerializedTask;
  readonly id: string;
  readonly triggerRule: TriggerRule;
  readonly upstream: readonly string[];
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

export class DagPlan {
  readonly tasks: ReadonlyMap<string, TaskPlan>;
  /** Tasks in topological order: one sweep in this order reaches the fixpoint of trigger rules. */
  readonly order: readonly TaskPlan[];
  /** Tasks whose states decide the run's state (Airflow's effective leaves: teardowns ignored). */
  readonly runStateTasks: ReadonlySet<string>;
  readonly slaTasks: readonly { taskId: string; slaMs: number }[];
  private timetableCache: Timetable | undefined;
  private newTisJson: string | undefined;

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
    this.runStateTasks = effectiveLeaves(dag.tasks, byId);
    this.slaTasks = dag.tasks
      .filter((t) => t.sla_ms !== null)
      .map((t) => ({ taskId: t.task_id, slaMs: t.sla_ms ?? 0 }));
  }

  /** The task instances of a new run, as JSON rows for an `insert … select from json_to_recordset`. */
  newTaskInstancesJson(): string {
    return (this.newTisJson ??= JSON.stringify(
      this.dag.tasks.map((t) => ({
        task_id: t.task_id,
        max_tries: t.retries + 1,
        pool: t.pool,
        pool_slots: t.pool_slots,
        priority_weight: this.tasks.get(t.task_id)?.weight ?? t.priority_weight,
        queue: t.queue,
        operator: t.operator,
      })),
    ));
  }

  timetable(defaultTimezone: string): Timetable {
    this.timetableCache ??= parseSchedule(this.dag.schedule, this.dag.timezone ?? defaultTimezone);
    return this.timetableCache;
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
    indirectSetups,
    mapped: t.expand !== null,
    literalCount,
    xcomSources,
    emptySuccess:
      t.operator === "EmptyOperator" &&
      t.expand === null &&
      !t.has_on_success_callback &&
      !t.has_on_failure_callback &&
      !t.has_on_retry_callback,
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

/** Airflow's `_tis_for_dagrun_state` (with on_failure_fail_dagrun false): teardowns do not count. */
function effectiveLeaves(
  tasks: readonly SerializedTask[],
  byId: ReadonlyMap<string, SerializedTask>,
): Set<string> {
  const leaves = tasks
    .filter((t) => !t.is_teardown && t.downstream_task_ids.every((d) => byId.get(d)?.is_teardown === true))
    .map((t) => t.task_id);
  if (leaves.length > 0) return new Set(leaves);
  return new Set(tasks.filter((t) => t.downstream_task_ids.length === 0).map((t) => t.task_id));
}

const plans = new Map<string, DagPlan>();
const MAX_PLANS = 256;

/**
 * The plan of a DAG as stored with `hash` (or now, when no hash is given): no query when cached.
 * Undefined when the DAG has no serialized form.
 */
export async function loadPlan(db: Db, dagId: string, hash?: string | null): Promise<DagPlan | undefined> {
  if (hash !== undefined && hash !== null) {
    const hit = plans.get(`${dagId}\0${hash}`);
    if (hit !== undefined) return hit;
  }
  const cached = await loadDag(db, dagId, hash ?? undefined);
  if (cached === undefined) return undefined;
  const key = `${dagId}\0${cached.hash}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = new DagPlan(cached.dag, cached.hash);
    plans.set(key, plan);
    if (plans.size > MAX_PLANS) {
      const oldest = plans.keys().next().value;
      if (oldest !== undefined) plans.delete(oldest);
    }
  }
  return plan;
}
