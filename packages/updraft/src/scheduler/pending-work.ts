// What the scheduler's next pass has to do, noted between passes (decision 0008 §2): the runs to
// evaluate (whole, or only the joins a finish named), the DAGs whose depends_on_past instances may
// now go on, the tries executors saw die and the steps asked for; and the wake-ups of the loop for
// them. Engine and executor events only note work here; the pass takes it.
import type { EngineEvent } from "../events/engine-events.js";
import type { ExecutorEvent } from "../executors/executor.js";
import type { TaskInstanceKey } from "../model/execution-api.js";
import { peekDag } from "../services/index.js";
import { runKey, type SchedulerClock } from "./context.js";
import { RescheduleTimers } from "./deferrals.js";
import type { RunRef } from "./schedule-runs.js";

/** The steps a pass is asked to take. */
export interface Wants {
  full: boolean;
  create: boolean;
  start: boolean;
  queue: boolean;
  /** An SLA or deadline-alert deadline came: check them now, not at the next periodic pass. */
  sla: boolean;
}

/** A try whose runner an executor saw die. */
export interface LostTry {
  ti: TaskInstanceKey;
  try_number: number;
  reason: string;
  maybeNotStarted: boolean;
}

/**
 * How long a request to decide a join (a task waiting on several upstreams) may wait to be
 * coalesced with the next ones: each of a wide fan-in's upstreams asks as it finishes, and one
 * evaluation can answer many of them. Whole-run checks and queuing are not delayed.
 */
const JOIN_COALESCE_MS = 30;

const noWants = (): Wants => ({ full: false, create: false, start: false, queue: false, sla: false });

export class PendingWork {
  private readonly dirty = new Map<string, RunRef>();
  /** DAGs whose running runs all need evaluating: a task their depends_on_past tasks wait on ended. */
  private readonly pastDirty = new Set<string>();
  /** Ends seen before this process had the DAG's plan cached: looked at again after the pass. */
  private pastUnknown: { dagId: string; taskId: string | null }[] = [];
  private readonly lost: LostTry[] = [];
  private wants: Wants = noWants();
  /** Sensors' reschedule dates the loop wakes for (decision 0030). */
  private readonly reschedules = new RescheduleTimers();
  private soon: NodeJS.Timeout | undefined;
  /** When joins were last evaluated (local clock), for coalescing their requests. */
  private lastJoinPass = 0;

  /** `wake` ends the loop's sleep, if it sleeps (after a pass the loop looks at hasWants anyway). */
  constructor(
    private readonly clock: SchedulerClock,
    private readonly wake: () => void,
  ) {}

  /** Asks the next pass for a step; no wake-up: the scheduler asks inside its loop or before it. */
  want(step: keyof Wants): void {
    this.wants[step] = true;
  }

  /** The steps asked for since the last pass, for this one. */
  takeWants(): Wants {
    const w = this.wants;
    this.wants = noWants();
    return w;
  }

  /** Asks for an evaluation of one run soon (as an event would). */
  requestRun(ref: RunRef): void {
    this.markDirty(ref);
    this.wants.queue = true;
    this.wake();
  }

  onEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case "ti_finished":
        this.notePast(e.dag_id, e.task_id);
        // The finish settled what it could (its downstream, the next try); the rest is asked for.
        if (e.run_check) this.markDirty({ dagId: e.dag_id, runId: e.run_id });
        else if (e.evaluate.length > 0) {
          this.markDirty({ dagId: e.dag_id, runId: e.run_id, tasks: e.evaluate });
          if (e.scheduled === 0) {
            this.wakeSoon();
            return;
          }
        }
        if (e.scheduled > 0) this.wants.queue = true;
        break;
      case "ti_state_changed":
        this.notePast(e.dag_id, null);
        this.markDirty({ dagId: e.dag_id, runId: e.run_id });
        this.wants.start = true;
        this.wants.queue = true;
        break;
      case "dag_run_created":
        this.markDirty({ dagId: e.dag_id, runId: e.run_id });
        this.wants.start = true;
        break;
      case "dag_changed":
        this.wants.create = true;
        break;
      case "executor_slot_free":
        this.wants.queue = true;
        break;
      case "ti_rescheduled":
        this.reschedules.add(e.dag_id, e.run_id, e.at, (dagId, runId) => this.requestRun({ dagId, runId }));
        return;
      case "trigger_created":
        return;
    }
    this.wake();
  }

  /**
   * A finished workload only frees its executor slot (the finish told the scheduler what else it
   * needs); a lost one is reaped, and its run evaluated.
   */
  onExecutorEvent(e: ExecutorEvent): void {
    if (e.type === "lost") {
      if (e.kind === "task")
        this.lost.push({
          ti: e.ti,
          try_number: e.try_number,
          reason: e.reason,
          maybeNotStarted: e.maybeNotStarted === true,
        });
      this.markDirty({ dagId: e.ti.dag_id, runId: e.ti.run_id });
    } else if (e.next !== null) {
      return; // The runner went on with a handed-over try: no slot freed.
    }
    this.wants.queue = true;
    this.wake();
  }

  /** The tries executors saw die since the last pass. */
  takeLost(): LostTry[] {
    return this.lost.splice(0);
  }

  /**
   * An end of `taskId` (null: any task) in a DAG with depends_on_past tasks that watch it: the
   * DAG's other running runs are evaluated in the next pass, so that an instance waiting on the
   * previous run goes on at once rather than at the periodic pass.
   */
  private notePast(dagId: string, taskId: string | null): void {
    const plan = peekDag(dagId);
    if (plan === undefined) {
      this.pastUnknown.push({ dagId, taskId });
      return;
    }
    const watched = plan.pastWatched;
    if (watched.size === 0) return;
    if (taskId !== null && !watched.has(taskId)) return;
    this.pastDirty.add(dagId);
  }

  /** DAGs whose depends_on_past instances an evaluation found may now go on. */
  notePastChanged(dagIds: Iterable<string>): void {
    for (const dagId of dagIds) this.pastDirty.add(dagId);
  }

  /** The pass loaded the plans it evaluated: ends seen without a plan are decided now. */
  recheckPastUnknown(): void {
    for (const u of this.pastUnknown.splice(0))
      if (peekDag(u.dagId) !== undefined) this.notePast(u.dagId, u.taskId);
  }

  /** The DAGs whose running runs all need evaluating (see notePast); taken, so asked for once. */
  takePastDags(): string[] {
    const dagIds = [...this.pastDirty];
    this.pastDirty.clear();
    return dagIds;
  }

  /**
   * The runs to evaluate in this pass. Requests to decide joins are served at most every
   * JOIN_COALESCE_MS: the ones that came sooner wait (a wide fan-in's upstreams finishing one
   * after another share an evaluation) unless a full pass evaluates everything anyway.
   */
  takeDirty(full: boolean): RunRef[] {
    const now = this.clock.now();
    const joinsDue = full || now - this.lastJoinPass >= JOIN_COALESCE_MS;
    const out: RunRef[] = [];
    for (const [k, r] of this.dirty) {
      if (r.tasks !== undefined && !joinsDue) continue;
      out.push(r);
      this.dirty.delete(k);
    }
    if (out.some((r) => r.tasks !== undefined)) this.lastJoinPass = now;
    if (this.dirty.size > 0) this.wakeSoon();
    return out;
  }

  /** Wakes the loop within JOIN_COALESCE_MS (once, however many ask meanwhile). */
  private wakeSoon(): void {
    if (this.soon !== undefined) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.wake();
    }, JOIN_COALESCE_MS);
    this.soon.unref?.();
  }

  /** Asks for an evaluation of the run (of some of its tasks only, with `tasks`); the whole run wins. */
  markDirty(ref: RunRef): void {
    const k = runKey(ref.dagId, ref.runId);
    const [merged] = dedupe([...(this.dirty.has(k) ? [this.dirty.get(k)!] : []), ref]);
    this.dirty.set(k, merged!);
  }

  /** Whether a pass has anything to do now (joins alone wait for their coalescing delay). */
  hasWants(): boolean {
    const w = this.wants;
    const joinsOnly = [...this.dirty.values()].every((r) => r.tasks !== undefined);
    const dirtyDue =
      this.dirty.size > 0 && (!joinsOnly || this.clock.now() - this.lastJoinPass >= JOIN_COALESCE_MS);
    return (
      w.full ||
      w.create ||
      w.start ||
      w.queue ||
      w.sla ||
      dirtyDue ||
      this.lost.length > 0 ||
      this.pastDirty.size > 0
    );
  }

  /** The scheduler stops: no timer wakes it any more. */
  stop(): void {
    clearTimeout(this.soon);
    // Cleared, and forgotten: a handle kept here would make wakeSoon believe a wake-up is coming.
    this.soon = undefined;
    this.reschedules.clear();
  }
}

/** One request per run; a whole-run evaluation wins over a scoped one. */
export function dedupe(runs: readonly RunRef[]): RunRef[] {
  const m = new Map<string, RunRef>();
  for (const r of runs) {
    const k = runKey(r.dagId, r.runId);
    const had = m.get(k);
    if (had === undefined || r.tasks === undefined) m.set(k, r);
    else if (had.tasks !== undefined) m.set(k, { ...r, tasks: [...new Set([...had.tasks, ...r.tasks])] });
  }
  return [...m.values()];
}
