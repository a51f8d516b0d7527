// Pure dependency evaluation of one DAG run: from the task instance states as read, what changes
// (scheduled / skipped / upstream_failed / removed / success for EmptyOperator), which mapped
// tasks expand to how many instances, and whether the run is over. Tasks are visited in
// topological order and each decision is applied in memory at once, so one sweep reaches the
// fixpoint (a skip cascades through the whole run in one pass).
import {
  countUpstreamStates,
  evaluateSetupConstraint,
  evaluateTriggerRule,
  type TriggerRuleOutcome,
} from "./trigger-rules.js";
import { FINISHED_TI_STATES, type TaskInstanceState } from "./states.js";
import type { DagPlan, ExpandSource, TaskPlan } from "./dag-plan.js";

export interface TiSnapshot {
  task_id: string;
  map_index: number;
  state: TaskInstanceState | null;
  /** up_for_retry and its next_retry_at has passed (by the database's clock). */
  retry_due: boolean;
}

export interface TiChange {
  task_id: string;
  map_index: number;
  from: TaskInstanceState | null;
  to: TaskInstanceState | null;
}

/** A mapped task's placeholder (map index -1) becomes instance 0, and instances 1..count-1 are created, all in `state`. */
export interface Expansion {
  task_id: string;
  count: number;
  state: TaskInstanceState;
}

/** A task of the DAG with no instance in the run (the DAG changed): created in `state`. */
export interface Creation {
  task_id: string;
  state: TaskInstanceState | null;
}

export interface RunEvaluation {
  changes: TiChange[];
  expansions: Expansion[];
  creations: Creation[];
  /** XCom lengths needed to expand; evaluate again with them. */
  needLengths: ExpandSource[];
  /** The run's state once the changes are applied: still running, or finished. */
  outcome: "running" | "success" | "failed";
  /** Nothing can ever run again though some instances are unfinished (Airflow's deadlock). */
  deadlock: boolean;
  /** How many instances became scheduled (to decide whether to queue now). */
  scheduled: number;
  /** Instances whose trigger rule is met but that wait on the previous run (depends_on_past), and why. */
  waits: PastWait[];
  /** Running instances to fail because another failed in a fail_stop DAG (their tries are ended). */
  stops: { task_id: string; map_index: number }[];
}

export interface PastWait {
  task_id: string;
  map_index: number;
  reason: string;
}

/**
 * Why a depends_on_past task may not run yet in this run, by task id (Airflow's PrevDagrunDep,
 * read by the scheduler before the evaluation); a task that is not in it may run.
 */
export type PastBlocks = ReadonlyMap<string, string>;

const NO_PAST: PastBlocks = new Map();

/** `task_id|key` → length of the list the producer pushed; null when it pushed none or not a list. */
export type XcomLengths = ReadonlyMap<string, number | null>;

export const lengthKey = (taskId: string, key: string): string => `${taskId}|${key}`;

const FINISHED = new Set<TaskInstanceState | null>(FINISHED_TI_STATES);

export function evaluateRun(
  plan: DagPlan,
  tis: readonly TiSnapshot[],
  lengths: XcomLengths = new Map(),
  past: PastBlocks = NO_PAST,
): RunEvaluation {
  const byTask = groupByTask(tis);
  const out = emptyEvaluation();

  // Instances of tasks the DAG no longer has are removed (Airflow's verify_integrity).
  for (const [taskId, list] of byTask) {
    if (plan.tasks.has(taskId)) continue;
    for (const ti of list) {
      if (FINISHED.has(ti.state)) continue;
      if (ti.state !== null && ti.state !== "scheduled" && ti.state !== "up_for_retry") continue;
      out.changes.push({ task_id: taskId, map_index: ti.map_index, from: ti.state, to: "removed" });
      ti.state = "removed";
    }
  }

  for (const tp of plan.order) {
    let list = byTask.get(tp.id);
    if (list === undefined) {
      // A task added to the DAG after the run was created.
      list = [{ task_id: tp.id, map_index: -1, state: null, retry_due: false }];
      byTask.set(tp.id, list);
      out.creations.push({ task_id: tp.id, state: null });
    }
    visit(out, plan, tp, list, byTask, lengths, past);
  }
  // After a stop only teardowns are left to decide: one more sweep decides them now.
  if (plan.dag.fail_stop && failStop(out, plan, byTask))
    for (const tp of plan.order) visit(out, plan, tp, byTask.get(tp.id) ?? [], byTask, lengths, past);
  // A created task's instance is written in the state the sweep gave it.
  for (const c of out.creations) c.state = byTask.get(c.task_id)?.[0]?.state ?? null;
  out.changes = out.changes.filter((c) => !out.creations.some((n) => n.task_id === c.task_id));

  if (out.needLengths.length > 0) return out;
  let unfinished = 0;
  let active = 0;
  for (const list of byTask.values()) {
    for (const ti of list) {
      if (FINISHED.has(ti.state)) continue;
      unfinished++;
      if (ti.state !== null) active++;
    }
  }
  if (unfinished === 0) {
    let failed = false;
    for (const id of plan.runStateTasks) {
      for (const ti of byTask.get(id) ?? [])
        if (ti.state === "failed" || ti.state === "upstream_failed") failed = true;
    }
    out.outcome = failed ? "failed" : "success";
  } else if (
    active === 0 &&
    out.changes.length === 0 &&
    out.expansions.length === 0 &&
    // airflow/models/dagrun.py: DagRun.update_state only calls it a deadlock when no unfinished
    // instance depends on past: such an instance waits for another run, not for this one.
    !plan.pastTasks.some((tp) => (byTask.get(tp.id) ?? []).some((ti) => !FINISHED.has(ti.state)))
  ) {
    out.deadlock = true;
    out.outcome = "failed";
  }
  return out;
}

/** What {@link evaluateTasks} decided, or that it cannot decide alone. */
export interface ScopedEvaluation {
  changes: TiChange[];
  scheduled: number;
  /**
   * The scope was not enough: a decision finished a task that has downstream tasks of its own
   * (a skip or failure cascades), a task must expand (mapped), or an instance is missing. The
   * caller evaluates the whole run instead (evaluateRun), which reaches the same decisions.
   */
  incomplete: boolean;
  waits: PastWait[];
}

/**
 * The decisions for the tasks in `scope` only, from the instances of those tasks and of everything
 * their rules read (upstreams, relevant setups): what a finished try's direct downstream tasks
 * become, without reading the whole run. Same rules as {@link evaluateRun}, which it defers to
 * (`incomplete`) whenever its narrow view could differ from the run's.
 */
export function evaluateTasks(
  plan: DagPlan,
  tis: readonly TiSnapshot[],
  scope: Iterable<string>,
  past: PastBlocks = NO_PAST,
): ScopedEvaluation {
  const byTask = groupByTask(tis);
  const out = emptyEvaluation();
  const tasks = [...new Set(scope)]
    .map((id) => plan.tasks.get(id))
    .filter((tp): tp is TaskPlan => tp !== undefined)
    .sort((a, b) => (plan.position.get(a.id) ?? 0) - (plan.position.get(b.id) ?? 0));
  for (const tp of tasks) {
    const list = byTask.get(tp.id);
    if (list === undefined || tp.mapped) return { changes: [], scheduled: 0, incomplete: true, waits: [] };
    visit(out, plan, tp, list, byTask, new Map(), past);
  }
  const incomplete = out.changes.some(
    (c) => c.to !== "scheduled" && (plan.tasks.get(c.task_id)?.downstream.length ?? 0) > 0,
  );
  return { changes: out.changes, scheduled: out.scheduled, incomplete, waits: out.waits };
}

function groupByTask(tis: readonly TiSnapshot[]): Map<string, TiSnapshot[]> {
  const byTask = new Map<string, TiSnapshot[]>();
  for (const ti of tis) {
    let list = byTask.get(ti.task_id);
    if (list === undefined) byTask.set(ti.task_id, (list = []));
    list.push({ ...ti });
  }
  return byTask;
}

/** An evaluation that changes nothing and leaves the run running. */
export function emptyEvaluation(): RunEvaluation {
  return {
    changes: [],
    expansions: [],
    creations: [],
    needLengths: [],
    outcome: "running",
    deadlock: false,
    scheduled: 0,
    waits: [],
    stops: [],
  };
}

/** Decides each instance of one task, applying each decision in memory at once. */
function visit(
  out: RunEvaluation,
  plan: DagPlan,
  tp: TaskPlan,
  list: TiSnapshot[],
  byTask: ReadonlyMap<string, TiSnapshot[]>,
  lengths: XcomLengths,
  past: PastBlocks,
): void {
  const pastReason = past.get(tp.id);
  for (const ti of list) {
    // A sensor's reschedule date is kept where a retry's is (next_retry_at): both come due alike.
    if ((ti.state === "up_for_retry" || ti.state === "up_for_reschedule") && ti.retry_due) {
      set(out, ti, "scheduled");
      continue;
    }
    if (ti.state !== null) continue;
    const outcome = decideTriggerRule(tp, ti.map_index, byTask, plan);
    if (outcome.decision === "wait") continue;
    if (outcome.decision === "skip") set(out, ti, "skipped");
    else if (outcome.decision === "upstream_failed") set(out, ti, "upstream_failed");
    else if (outcome.decision === "removed") set(out, ti, "removed");
    else if (pastReason !== undefined)
      // airflow/ti_deps/deps/prev_dagrun_dep.py: PrevDagrunDep fails; the instance stays unscheduled.
      out.waits.push({ task_id: ti.task_id, map_index: ti.map_index, reason: pastReason });
    else if (tp.mapped && ti.map_index === -1) expand(out, tp, ti, list, lengths);
    else set(out, ti, tp.emptySuccess ? "success" : "scheduled");
  }
}

/**
 * airflow/models/taskinstance.py _stop_remaining_tasks (called when a task instance fails in a DAG
 * with fail_stop): every other instance that is not success or failed, and not of a teardown,
 * is failed if running and skipped otherwise. True when it changed anything.
 */
function failStop(out: RunEvaluation, plan: DagPlan, byTask: Map<string, TiSnapshot[]>): boolean {
  if (![...byTask.values()].some((list) => list.some((ti) => ti.state === "failed"))) return false;
  let stopped = false;
  // A task this evaluation expanded is not expanded after all: its placeholder is skipped.
  for (const e of out.expansions.splice(0)) {
    const list = byTask.get(e.task_id);
    if (list === undefined) continue;
    list.splice(0, list.length, { task_id: e.task_id, map_index: -1, state: null, retry_due: false });
    out.scheduled -= e.count;
  }
  for (const ti of [...byTask.values()].flat()) {
    if (ti.state === "success" || ti.state === "failed" || ti.state === "skipped") continue;
    if (plan.tasks.get(ti.task_id)?.task.is_teardown !== false) continue;
    stopped = true;
    if (ti.state === "running") {
      out.stops.push({ task_id: ti.task_id, map_index: ti.map_index });
      ti.state = "failed";
      continue;
    }
    // An instance this evaluation already changed keeps one change, from the state as read.
    const earlier = out.changes.find((c) => c.task_id === ti.task_id && c.map_index === ti.map_index);
    if (earlier !== undefined) {
      if (earlier.to === "scheduled") out.scheduled--;
      earlier.to = "skipped";
      ti.state = "skipped";
    } else set(out, ti, "skipped");
  }
  return stopped;
}

function set(out: RunEvaluation, ti: TiSnapshot, to: TaskInstanceState): void {
  out.changes.push({ task_id: ti.task_id, map_index: ti.map_index, from: ti.state, to });
  if (to === "scheduled") out.scheduled++;
  ti.state = to;
}

/**
 * The setup constraint, then the trigger rule, of one instance of `tp` from the instances of its
 * upstream tasks and relevant setups (`byTask`). With `flagUpstreamFailed: false` a rule that can
 * no longer be met only ever waits: the dependencies view (explain-dependencies.ts) asks so.
 */
export function decideTriggerRule(
  tp: TaskPlan,
  mapIndex: number,
  byTask: ReadonlyMap<string, readonly { readonly state: TaskInstanceState | null }[]>,
  plan: DagPlan,
  flagUpstreamFailed = true,
): TriggerRuleOutcome {
  const opts = { mapIndex, flagUpstreamFailed };
  if (tp.indirectSetups.length > 0) {
    const setupStates = tp.indirectSetups.flatMap((id) => byTask.get(id) ?? []);
    const constraint = evaluateSetupConstraint(countUpstreamStates(setupStates), opts);
    if (constraint.decision !== "run") return constraint;
  }
  const upstream: { state: TaskInstanceState | null; isSetup: boolean }[] = [];
  for (const id of tp.upstream) {
    const isSetup = plan.tasks.get(id)?.task.is_setup === true;
    for (const u of byTask.get(id) ?? []) upstream.push({ state: u.state, isSetup });
  }
  return evaluateTriggerRule(tp.triggerRule, countUpstreamStates(upstream), opts);
}

function expand(
  out: RunEvaluation,
  tp: TaskPlan,
  placeholder: TiSnapshot,
  list: TiSnapshot[],
  lengths: XcomLengths,
): void {
  let count = tp.literalCount;
  let missing = false;
  for (const source of tp.xcomSources) {
    const key = lengthKey(source.taskId, source.key);
    if (!lengths.has(key)) {
      out.needLengths.push(source);
      missing = true;
      continue;
    }
    const n = lengths.get(key);
    if (n === null || n === undefined) {
      // Airflow fails the task when the upstream value cannot be expanded.
      set(out, placeholder, "failed");
      return;
    }
    count *= n;
  }
  if (missing) return;
  if (count === 0) {
    set(out, placeholder, "skipped");
    return;
  }
  const state: TaskInstanceState = "scheduled";
  out.expansions.push({ task_id: tp.id, count, state });
  out.scheduled += count;
  placeholder.map_index = 0;
  placeholder.state = state;
  for (let i = 1; i < count; i++) list.push({ task_id: tp.id, map_index: i, state, retry_due: false });
}
