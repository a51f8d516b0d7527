// Why a task instance is not running yet, in words (Airflow's "Task Instance Details →
// dependencies", airflow/ti_deps/deps/*.py): each unmet condition with Airflow's dependency name.
// Pure: the API gathers the facts (api/rest/dependency-facts.ts) and this decides what to say,
// with the scheduler's own rules — the trigger rule and setup constraint of evaluate-run.ts, the
// depends_on_past reason of services/prev-dagrun.ts, the queuing limits of
// scheduler/queue-task-instances.ts — so the explanation cannot drift from what the scheduler does.
import type { DagPlan } from "./dag-plan.js";
import { decideTriggerRule } from "./evaluate-run.js";
import { nextRetryDelayMs } from "./retry-delay.js";
import { FINISHED_TI_STATES, type DagRunState, type TaskInstanceState } from "./states.js";

/** Airflow's dependency names (BaseTIDep.NAME), so that users of both see the same words. */
export const DEP = {
  dagrunRunning: "Dagrun Running",
  dagNotPaused: "Dag Not Paused",
  taskInstanceState: "Task Instance State",
  notInRetryPeriod: "Not In Retry Period",
  triggerRule: "Trigger Rule",
  previousDagrun: "Previous Dagrun State",
  poolSlots: "Pool Slots Available",
  dagTiSlots: "Task Instance Slots Available",
  taskConcurrency: "Task Concurrency",
  /** Updraft's own (Airflow's Celery workers have no such check): a live worker takes the task's queue. */
  workerServingQueue: "Worker Serving Queue",
  executor: "Executor Configured",
} as const;

export interface Dependency {
  name: string;
  reason: string;
}

export interface DependencyExplanation {
  /** The unmet conditions; empty when nothing the scheduler checks holds the instance back. */
  dependencies: Dependency[];
  /** One sentence on where the instance stands. */
  message: string;
}

/**
 * The QueueExecutor's workers, for an instance that runs on it (read by the API from the workers'
 * registry in Redis; decision 0026).
 */
export interface QueueWorkerFacts {
  /** The task instance's queue. */
  queue: string;
  /** The live workers: the queues each takes work from, and whether it is draining (takes none). */
  live: readonly { hostname: string; queues: readonly string[]; draining: boolean }[];
  /** Why the registry could not be read, or null. */
  unreachable: string | null;
  /** worker.stale_after. */
  staleAfterS: number;
}

/** A pool's slot use now (db/queries/pool.ts getPoolSlotStats). */
export interface PoolFacts {
  pool: string;
  /** -1 for unlimited. */
  slots: number;
  running: number;
  queued: number;
  open: number;
}

export interface DependencyFacts {
  dagId: string;
  dagPaused: boolean;
  run: { state: DagRunState; run_type: string; logical_date: Date | null };
  ti: {
    task_id: string;
    map_index: number;
    state: TaskInstanceState | null;
    try_number: number;
    next_retry_at: Date | null;
    end_date: Date | null;
    pool: string;
    pool_slots: number;
  };
  /** The DAG as the scheduler sees it now; undefined when it has no serialized form. */
  plan: DagPlan | undefined;
  /** The run's instances of the task's direct upstream tasks and relevant setups. */
  upstream: readonly { task_id: string; map_index: number; state: TaskInstanceState | null }[];
  /** Why the previous run holds a depends_on_past task back (pastBlocks), or null. */
  past: string | null;
  /** The instance's pool; undefined when it does not exist. Only read for a scheduled instance. */
  pool: PoolFacts | undefined;
  /** Queued or running instances: of the run, of the task in every run, of the task in this run. */
  active: { run: number; taskInDag: number; taskInRun: number };
  /** core.max_active_tasks_per_dag, for a DAG without max_active_tasks. */
  defaultMaxActiveTasks: number;
  /** The database's clock (the scheduler compares next_retry_at with it). */
  now: Date;
  /** Set for a queued or scheduled instance that runs on the QueueExecutor. */
  workers?: QueueWorkerFacts | undefined;
  /** The instance's executor column and the executors core.executor lists; unset: not checked. */
  executor?: { name: string | null; configured: readonly string[] };
}

const FINISHED = new Set<TaskInstanceState | null>(FINISHED_TI_STATES);
const MAX_LISTED = 20;

/**
 * The unmet dependencies of one task instance, as the scheduler would find them now.
 *
 * @example
 * ```ts
 * explainDependencies(facts).dependencies;
 * // [{ name: "Trigger Rule", reason: 'trigger rule "all_success": needs every upstream to succeed; … upstream: extract=running' }]
 * ```
 */
export function explainDependencies(f: DependencyFacts): DependencyExplanation {
  const { state } = f.ti;
  if (state === "queued" && f.workers !== undefined) {
    const none = workerDep(f.workers);
    if (none !== null)
      return {
        dependencies: [none],
        message: `Task is in the 'queued' state on queue ${f.workers.queue} of the QueueExecutor, but no live worker takes work from that queue.`,
      };
  }
  const own = ownState(state, f);
  if (own !== null) return own;

  const deps: Dependency[] = [];
  const tp = f.plan?.tasks.get(f.ti.task_id);
  if (f.plan === undefined) {
    // The scheduler evaluates no run of a DAG it has no serialized form of.
    deps.push({
      name: DEP.taskInstanceState,
      reason: `DAG "${f.dagId}" has no serialized form (its file was not parsed, or failed to): the scheduler cannot evaluate this run. See GET /api/v1/importErrors.`,
    });
    return { dependencies: deps, message: "The scheduler cannot evaluate this run until the DAG is parsed." };
  }
  if (tp === undefined) {
    deps.push({
      name: DEP.taskInstanceState,
      reason: `DAG "${f.dagId}" no longer has task "${f.ti.task_id}": the scheduler sets this instance to removed.`,
    });
    return { dependencies: deps, message: "The task is gone from the DAG; this instance will not run." };
  }
  deps.push(...runDeps(f));

  if (state === "up_for_retry") {
    const at = retryAt(f);
    if (at !== null && at.getTime() > f.now.getTime())
      deps.push({
        name: DEP.notInRetryPeriod,
        reason: `Try ${f.ti.try_number} failed; the task is retried automatically once its retry delay is over, at ${at.toISOString()} (now ${f.now.toISOString()}).`,
      });
  } else if (state === null) {
    deps.push(...upstreamDeps(f));
    if (f.past !== null)
      deps.push({ name: DEP.previousDagrun, reason: withoutName(f.past, DEP.previousDagrun) });
  } else if (state === "scheduled") {
    deps.push(...queueDeps(f), ...executorDeps(f));
  }
  return { dependencies: deps, message: deps.length > 0 ? blockedMessage(deps) : metMessage(f) };
}

/** States in which the instance is not waiting on the scheduler's dependencies at all. */
function ownState(state: TaskInstanceState | null, f: DependencyFacts): DependencyExplanation | null {
  const only = (reason: string, message = reason): DependencyExplanation => ({
    dependencies: [{ name: DEP.taskInstanceState, reason }],
    message,
  });
  if (state === "running")
    return { dependencies: [], message: "Task is in the 'running' state: it is running now." };
  if (state === "queued")
    return {
      dependencies: [],
      message:
        "Task is in the 'queued' state: the scheduler has handed it to the executor, which has not started it yet. If it stays queued, check that the executor's workers are running.",
    };
  if (state !== null && FINISHED.has(state))
    return only(
      `Task is in the '${state}' state, which is final: it runs again only if it is cleared.`,
      `Task is in the '${state}' state and will not run again unless cleared.`,
    );
  if (state === "deferred")
    return only("Task is in the 'deferred' state: it resumes when its trigger fires.");
  if (state === "up_for_reschedule") {
    // The reschedule date is kept in next_retry_at (decision 0030).
    const at = f.ti.next_retry_at;
    return only(
      at === null
        ? "Task is in the 'up_for_reschedule' state: the sensor is poked again at its reschedule time."
        : at.getTime() > f.now.getTime()
          ? `Task is in the 'up_for_reschedule' state: waiting to be rescheduled at ${at.toISOString()} (now ${f.now.toISOString()}); the sensor is poked again then.`
          : `Task is in the 'up_for_reschedule' state: its reschedule time ${at.toISOString()} has come; the scheduler queues it at its next pass.`,
    );
  }
  if (state === "restarting")
    return only(
      "Task is in the 'restarting' state: it was cleared while running and returns to no state once its runner has stopped.",
    );
  return null;
}

function runDeps(f: DependencyFacts): Dependency[] {
  const out: Dependency[] = [];
  const runState = f.run.state;
  if (runState === "running") return out;
  const next =
    runState === "queued"
      ? "it starts when the DAG's max_active_runs allows."
      : "its task instances run again only if they are cleared.";
  out.push({
    name: DEP.dagrunRunning,
    reason: `Task instance's DAG run is in the '${runState}' state, not 'running': ${next}`,
  });
  // A paused DAG's running runs go on (decision 0008); only its queued runs wait (backfills start anyway).
  if (runState === "queued" && f.dagPaused && f.run.run_type !== "backfill")
    out.push({
      name: DEP.dagNotPaused,
      reason: `Task's DAG '${f.dagId}' is paused: its queued runs start only once it is unpaused.`,
    });
  return out;
}

/** The trigger rule and setup constraint, as the scheduler evaluates them, with the upstream states. */
function upstreamDeps(f: DependencyFacts): Dependency[] {
  const plan = f.plan!;
  const tp = plan.tasks.get(f.ti.task_id)!;
  const byTask = new Map<string, { state: TaskInstanceState | null }[]>();
  for (const u of f.upstream) {
    let list = byTask.get(u.task_id);
    if (list === undefined) byTask.set(u.task_id, (list = []));
    list.push(u);
  }
  const waiting = decideTriggerRule(tp, f.ti.map_index, byTask, plan, false);
  if (waiting.decision !== "wait") return [];
  let reason = `${waiting.reason}. Upstream: ${listUpstream(f, [...tp.upstream, ...tp.indirectSetups])}.`;
  // What the scheduler does once the rule can no longer be met.
  const settled = decideTriggerRule(tp, f.ti.map_index, byTask, plan, true);
  if (
    settled.decision === "skip" ||
    settled.decision === "upstream_failed" ||
    settled.decision === "removed"
  ) {
    const to = settled.decision === "skip" ? "skipped" : settled.decision;
    reason += ` The rule can no longer be met: the scheduler sets this instance to ${to} at its next pass.`;
  }
  return [{ name: DEP.triggerRule, reason }];
}

/** `extract=success, m[0]=running, load=none`: the upstream instances and their states. */
function listUpstream(f: DependencyFacts, taskIds: readonly string[]): string {
  const wanted = new Set(taskIds);
  const items = f.upstream
    .filter((u) => wanted.has(u.task_id))
    .sort((a, b) => a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index)
    .map((u) => `${u.task_id}${u.map_index >= 0 ? `[${u.map_index}]` : ""}=${u.state ?? "none"}`);
  const missing = taskIds.filter((id) => !f.upstream.some((u) => u.task_id === id));
  items.push(...missing.map((id) => `${id}=(no instance)`));
  if (items.length <= MAX_LISTED) return items.join(", ");
  return `${items.slice(0, MAX_LISTED).join(", ")} and ${items.length - MAX_LISTED} more`;
}

/** The limits the scheduler admits a scheduled instance by (queue-task-instances.ts admit). */
function queueDeps(f: DependencyFacts): Dependency[] {
  const out: Dependency[] = [];
  const { ti, pool, active } = f;
  if (pool === undefined) {
    out.push({
      name: DEP.poolSlots,
      reason: `Pool '${ti.pool}' does not exist: the scheduler fails task instances that use it. Create the pool (POST /api/v1/pools) or give the task an existing pool.`,
    });
  } else if (pool.slots !== -1 && pool.open < ti.pool_slots) {
    out.push({
      name: DEP.poolSlots,
      reason: `Pool '${pool.pool}' has ${pool.open} open slot(s) of ${pool.slots} (${pool.running} running, ${pool.queued} queued) and this task needs ${ti.pool_slots}.`,
    });
  }
  const dag = f.plan!.dag;
  const maxTasks = dag.max_active_tasks ?? f.defaultMaxActiveTasks;
  if (active.run >= maxTasks)
    out.push({
      name: DEP.dagTiSlots,
      reason: `The run has ${active.run} task instance(s) queued or running, the maximum of the DAG's max_active_tasks (${maxTasks}).`,
    });
  if (f.workers !== undefined) {
    const none = workerDep(f.workers);
    if (none !== null) out.push(none);
  }
  const task = f.plan!.task(ti.task_id)!;
  if (task.max_active_tis_per_dag !== null && active.taskInDag >= task.max_active_tis_per_dag)
    out.push({
      name: DEP.taskConcurrency,
      reason: `The task has ${active.taskInDag} instance(s) queued or running across all runs, the maximum of its max_active_tis_per_dag (${task.max_active_tis_per_dag}).`,
    });
  if (task.max_active_tis_per_dagrun !== null && active.taskInRun >= task.max_active_tis_per_dagrun)
    out.push({
      name: DEP.taskConcurrency,
      reason: `The task has ${active.taskInRun} instance(s) queued or running in this run, the maximum of its max_active_tis_per_dagrun (${task.max_active_tis_per_dagrun}).`,
    });
  return out;
}

/** Null when a live worker that is not draining takes work from the queue; otherwise why none does. */
function workerDep(w: QueueWorkerFacts): Dependency | null {
  const q = w.queue;
  const start = `Start one with \`updraft worker --queues ${q}\`.`;
  const reason = (text: string): Dependency => ({ name: DEP.workerServingQueue, reason: text });
  if (w.unreachable !== null)
    return reason(`Cannot tell whether a worker serves queue ${q}: ${w.unreachable}`);
  const taking = w.live.filter((x) => !x.draining);
  if (taking.some((x) => x.queues.includes(q))) return null;
  if (w.live.length === 0)
    return reason(
      `No worker is alive to serve queue ${q} (none has heartbeated in the last ${w.staleAfterS} s). ${start}`,
    );
  const drainingHere = w.live.filter((x) => x.draining && x.queues.includes(q)).length;
  const draining =
    drainingHere === 0
      ? ""
      : ` (${drainingHere} draining worker${drainingHere === 1 ? " serves" : "s serve"} it but take${drainingHere === 1 ? "s" : ""} no new work)`;
  if (taking.length === 0)
    return reason(
      `No worker serves queue ${q}: the ${plural(w.live.length, "live worker")} ${w.live.length === 1 ? "is" : "are"} draining and take${w.live.length === 1 ? "s" : ""} no new work${draining}. ${start}`,
    );
  const served = [...new Set(taking.flatMap((x) => x.queues))].sort();
  return reason(
    `No worker serves queue ${q}: the ${plural(taking.length, "live worker")} serve${taking.length === 1 ? "s" : ""} ${served.join(", ")}${draining}. ${start}`,
  );
}

function plural(n: number, noun: string): string {
  return n === 1 ? noun : `${n} ${noun}s`;
}

/**
 * A task naming an executor core.executor no longer lists (it changed after the DAG was parsed):
 * the scheduler never queues it (scheduler/queue-task-instances.ts claims only its executors').
 */
function executorDeps(f: DependencyFacts): Dependency[] {
  const e = f.executor;
  if (e === undefined || e.name === null || e.configured.includes(e.name)) return [];
  return [
    {
      name: DEP.executor,
      reason: `The task names the executor "${e.name}", which core.executor (${e.configured.join(", ")}) does not list: the scheduler does not queue it. Add ${e.name} to core.executor and restart the scheduler, or remove the task's executor option.`,
    },
  ];
}

/**
 * When an up_for_retry instance is retried: next_retry_at as the finish wrote it, else (a row
 * from before it was kept) the end of the try plus the task's retry delay, as Airflow computes it.
 */
function retryAt(f: DependencyFacts): Date | null {
  if (f.ti.next_retry_at !== null) return f.ti.next_retry_at;
  const task = f.plan?.task(f.ti.task_id);
  if (f.ti.end_date === null || task === undefined || f.ti.try_number < 1) return null;
  const delay = nextRetryDelayMs({
    retryDelayMs: task.retry_delay_ms,
    exponentialBackoff: task.retry_exponential_backoff,
    maxRetryDelayMs: task.max_retry_delay_ms,
    tryNumber: f.ti.try_number,
    dagId: f.dagId,
    taskId: f.ti.task_id,
    logicalDate: f.run.logical_date,
  });
  return new Date(f.ti.end_date.getTime() + delay);
}

function withoutName(reason: string, name: string): string {
  return reason.startsWith(`${name}: `) ? reason.slice(name.length + 2) : reason;
}

function blockedMessage(deps: readonly Dependency[]): string {
  const names = [...new Set(deps.map((d) => d.name))];
  return `Not running yet: ${names.length} unmet dependenc${names.length === 1 ? "y" : "ies"} (${names.join(", ")}).`;
}

/** Nothing the scheduler checks holds it back: what happens next. */
function metMessage(f: DependencyFacts): string {
  const tp = f.plan?.tasks.get(f.ti.task_id);
  switch (f.ti.state) {
    case null:
      return tp?.mapped === true && f.ti.map_index === -1
        ? "All dependencies are met: the scheduler expands this mapped task at its next pass."
        : "All dependencies are met: the scheduler schedules this task instance at its next pass.";
    case "up_for_retry":
      return "All dependencies are met: the retry is due and the scheduler schedules it at its next pass.";
    default:
      return "All dependencies are met: the task instance waits for the scheduler to queue it (executor slots, core.parallelism, or task instances of higher priority first). If it stays scheduled, check that the scheduler is running.";
  }
}
