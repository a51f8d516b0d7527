// The scheduler loop. Event-driven: a finished task, a new run or a free executor slot requests a
// pass at once; requests arriving during a pass are coalesced into the next one, and one process
// never runs two passes at the same time. A periodic pass (scheduler.scheduler_heartbeat_sec) is
// the safety net: it evaluates every running run and does the reaping and run checks.
import { hostname } from "node:os";
import type { UpdraftConfig } from "../config/index.js";
import { endJob, heartbeatJob, startJob, type Database } from "../db/index.js";
import type { EngineEvent, EngineEvents } from "../events/engine-events.js";
import type { Executor, ExecutorEvent } from "../executors/executor.js";
import { ExecutorSet } from "../executors/executor-set.js";
import type { TaskInstanceKey, Workload } from "../model/execution-api.js";
import {
  quietLogger,
  runKey,
  type SchedulerClock,
  type SchedulerContext,
  type SchedulerHooks,
  type SchedulerLogger,
} from "./context.js";
import { createAssetTriggeredRuns } from "./asset-runs.js";
import { createDagRuns } from "./create-dag-runs.js";
import { queuePass } from "./queue-pass.js";
import { adoptRunners } from "./adopt-runners.js";
import {
  adoptOrphans,
  reapLostTry,
  reapQueuedTooLong,
  reapStaleHeartbeats,
  releaseRestarting,
  requeueNotStarted,
} from "./reap.js";
import { checkRunningRuns } from "./run-checks.js";
import { checkDeadlines } from "./deadlines.js";
import { checkSlas } from "./sla.js";
import { scheduleRuns, type FinishedRun, type RunRef } from "./schedule-runs.js";
import { startQueuedRuns } from "./start-queued-runs.js";
import { callbackWorkload, peekDag } from "../services/index.js";
import { runningRuns } from "./running-runs.js";
import { noopMetrics, type Metrics } from "../metrics/index.js";
import { noopTraces, type Traces } from "../traces/index.js";
import { emitExecutorMetrics, emitPoolMetrics } from "./emit-metrics.js";
import { RescheduleTimers, timeOutDeferredTries } from "./deferrals.js";

export interface SchedulerOptions {
  database: Database;
  config: UpdraftConfig;
  /** The one executor; or give `executors`. */
  executor?: Executor;
  /** Every executor of core.executor, the default first (decision 0027); wins over `executor`. */
  executors?: ExecutorSet;
  /** Wakes the scheduler when tasks finish and runs are created (also across processes on PostgreSQL). */
  events?: EngineEvents | null;
  /** Base URL runners use to reach the execution API. */
  apiUrl: string;
  /** Signs the execution tokens of the workloads. */
  secretKey: string;
  logger?: SchedulerLogger;
  clock?: SchedulerClock;
  hooks?: SchedulerHooks;
  /** Seconds without heartbeat after which another scheduler counts as dead (default max(30, 3 × heartbeat)). */
  staleJobAfterS?: number;
  /** Where Airflow's scheduler metrics go (default: nowhere). */
  metrics?: Metrics;
  /** Where ended runs' and reaped tries' spans go (default: nowhere). */
  traces?: Traces;
}

/** What one pass did, for tests and logs. */
export interface PassSummary {
  created: number;
  started: number;
  evaluated: number;
  scheduled: number;
  queued: number;
  finishedRuns: number;
  reaped: number;
  callbacks: number;
}

interface Wants {
  full: boolean;
  create: boolean;
  start: boolean;
  queue: boolean;
  /** An SLA or deadline-alert deadline came: check them now, not at the next periodic pass. */
  sla: boolean;
}

const BUSY_RETRY_MS = 5;
/**
 * How long a request to decide a join (a task waiting on several upstreams) may wait to be
 * coalesced with the next ones: each of a wide fan-in's upstreams asks as it finishes, and one
 * evaluation can answer many of them. Whole-run checks and queuing are not delayed.
 */
const JOIN_COALESCE_MS = 30;

export class Scheduler {
  private readonly ctx: SchedulerContext;
  private readonly staleJobAfterS: number;
  private readonly heartbeatMs: number;
  private readonly dirty = new Map<string, RunRef>();
  /** DAGs whose running runs all need evaluating: a task their depends_on_past tasks wait on ended. */
  private readonly pastDirty = new Set<string>();
  /** Ends seen before this process had the DAG's plan cached: looked at again after the pass. */
  private pastUnknown: { dagId: string; taskId: string | null }[] = [];
  private readonly lost: {
    ti: TaskInstanceKey;
    try_number: number;
    reason: string;
    maybeNotStarted: boolean;
  }[] = [];
  private wants: Wants = { full: false, create: false, start: false, queue: false, sla: false };
  /** The next SLA deadline of a running run (local clock), or null: the loop wakes for it. */
  private nextSlaAt: number | null = null;
  private pass: Promise<PassSummary> | null = null;
  private loopDone: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Sensors' reschedule dates the loop wakes for (decision 0030). */
  private readonly reschedules = new RescheduleTimers();
  private stopping = false;
  private soon: NodeJS.Timeout | undefined;
  /** When joins were last evaluated (local clock), for coalescing their requests. */
  private lastJoinPass = 0;
  private unsubscribe: (() => void)[] = [];

  constructor(options: SchedulerOptions) {
    const clock = options.clock ?? { now: () => Date.now() };
    const executors =
      options.executors ?? new ExecutorSet(options.executor === undefined ? [] : [options.executor]);
    this.ctx = {
      database: options.database,
      db: options.database.db,
      config: options.config,
      executor: executors.default,
      executors,
      events: options.events ?? null,
      logger: options.logger ?? quietLogger,
      hooks: options.hooks ?? {},
      clock,
      metrics: options.metrics ?? noopMetrics,
      traces: options.traces ?? noopTraces,
      signer: {
        secretKey: options.secretKey,
        apiUrl: options.apiUrl,
        logFolder: options.config.logging.base_log_folder,
        now: () => clock.now(),
        // A queued try waits at most this long before it is reaped (a Pending Pod included).
        maxWaitS: Math.max(
          options.config.scheduler.task_queued_timeout,
          options.config.kubernetes_executor.worker_pods_pending_timeout,
        ),
      },
      jobId: null,
    };
    this.heartbeatMs = Math.max(50, options.config.scheduler.scheduler_heartbeat_sec * 1000);
    this.staleJobAfterS =
      options.staleJobAfterS ??
      Math.max(
        options.config.scheduler.scheduler_health_check_threshold,
        2 * options.config.scheduler.scheduler_heartbeat_sec,
      );
  }

  /** This scheduler's job id (null before start). */
  get jobId(): number | null {
    return this.ctx.jobId;
  }

  /**
   * Registers the scheduler's job, subscribes to engine and executor events, adopts what dead
   * schedulers left queued, and runs the loop until `stop()`.
   */
  async start(): Promise<void> {
    if (this.loopDone !== null) return;
    const job = await startJob(this.ctx.db, { jobType: "scheduler", hostname: hostname(), pid: process.pid });
    this.ctx.jobId = job.id;
    if (this.ctx.events !== null) {
      await this.ctx.events.start();
      this.unsubscribe.push(this.ctx.events.on((e) => this.onEngineEvent(e)));
    }
    // Every executor's: a lost try is settled whichever reports it.
    this.unsubscribe.push(this.ctx.executors.onEvent((e) => this.onExecutorEvent(e)));
    // At once: a scheduler restarted after a crash takes back what its dead predecessor queued.
    await this.adopt();
    this.wants.full = true;
    this.loopDone = this.loop();
  }

  /**
   * Stops the loop after the current pass and ends the job. With `stopExecutor`, also stops the
   * executors and sends the workloads it never started back to scheduled.
   */
  async stop(options: { stopExecutor?: boolean } = {}): Promise<void> {
    this.stopping = true;
    clearTimeout(this.soon);
    this.reschedules.clear();
    this.wake?.();
    await this.loopDone;
    this.loopDone = null;
    for (const u of this.unsubscribe.splice(0)) u();
    if (options.stopExecutor === true) {
      const result = await this.ctx.executors.stop();
      await requeueNotStarted(this.ctx.db, result.notStarted);
    }
    if (this.ctx.jobId !== null) await endJob(this.ctx.db, this.ctx.jobId);
  }

  /** One full pass (run creation, evaluation of every running run, queuing, reaping); for tests. */
  async runOnce(): Promise<PassSummary> {
    while (this.pass !== null) await this.pass.catch(() => undefined);
    this.wants.full = true;
    return this.runPass();
  }

  /** Asks for an evaluation of one run soon (as an event would). */
  requestRun(dagId: string, runId: string): void {
    this.markDirty({ dagId, runId });
    this.wants.queue = true;
    this.wake?.();
  }

  private onEngineEvent(e: EngineEvent): void {
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
        this.reschedules.add(e.dag_id, e.run_id, e.at, (dagId, runId) => this.requestRun(dagId, runId));
        return;
      case "trigger_created":
        return;
    }
    this.wake?.();
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

  /** The running runs of the DAGs in pastDirty, as whole-run evaluations. */
  private async takePastDirty(): Promise<RunRef[]> {
    if (this.pastDirty.size === 0) return [];
    const dagIds = [...this.pastDirty];
    this.pastDirty.clear();
    return runningRuns(this.ctx.db, dagIds);
  }

  /**
   * A finished workload only frees its executor slot (the finish told the scheduler what else it
   * needs); a lost one is reaped, and its run evaluated.
   */
  private onExecutorEvent(e: ExecutorEvent): void {
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
    this.wake?.();
  }

  /**
   * The runs to evaluate in this pass. Requests to decide joins are served at most every
   * JOIN_COALESCE_MS: the ones that came sooner wait (a wide fan-in's upstreams finishing one
   * after another share an evaluation) unless a full pass evaluates everything anyway.
   */
  private takeDirty(full: boolean): RunRef[] {
    const now = this.ctx.clock.now();
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
      this.wake?.();
    }, JOIN_COALESCE_MS);
    this.soon.unref?.();
  }

  /** Asks for an evaluation of the run (of some of its tasks only, with `tasks`); the whole run wins. */
  private markDirty(ref: RunRef): void {
    const k = runKey(ref.dagId, ref.runId);
    const [merged] = dedupe([...(this.dirty.has(k) ? [this.dirty.get(k)!] : []), ref]);
    this.dirty.set(k, merged!);
  }

  private hasWants(): boolean {
    const w = this.wants;
    const joinsOnly = [...this.dirty.values()].every((r) => r.tasks !== undefined);
    const dirtyDue =
      this.dirty.size > 0 && (!joinsOnly || this.ctx.clock.now() - this.lastJoinPass >= JOIN_COALESCE_MS);
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

  private async loop(): Promise<void> {
    const clock = this.ctx.clock;
    let nextPeriodic = clock.now() + this.heartbeatMs;
    let nextHeartbeat = clock.now() + this.heartbeatMs;
    let failures = 0;
    while (!this.stopping) {
      const now = clock.now();
      if (now >= nextHeartbeat && this.ctx.jobId !== null) {
        nextHeartbeat = now + this.heartbeatMs;
        this.ctx.metrics.incr("scheduler_heartbeat");
        await heartbeatJob(this.ctx.db, {
          id: this.ctx.jobId,
          jobType: "scheduler",
          hostname: hostname(),
          pid: process.pid,
        }).catch((err: unknown) => this.ctx.logger.warn({ err: String(err) }, "Job heartbeat failed"));
      }
      if (now >= nextPeriodic) {
        nextPeriodic = now + this.heartbeatMs;
        this.wants.full = true;
      }
      if (this.nextSlaAt !== null && now >= this.nextSlaAt) {
        this.nextSlaAt = null;
        this.wants.sla = true;
      }
      if (this.hasWants()) {
        try {
          await this.runPass();
          failures = 0;
        } catch (err) {
          failures++;
          this.ctx.logger.error(
            { err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
            "Scheduling pass failed; retrying",
          );
          // Back off on repeated failures (a database restart), but stay responsive.
          await this.sleep(Math.min(this.heartbeatMs, 50 * 2 ** Math.min(failures, 6)));
          this.wants.full = true;
        }
        continue;
      }
      await this.sleep(
        Math.max(0, Math.min(nextPeriodic, nextHeartbeat, this.nextSlaAt ?? Infinity) - clock.now()),
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private runPass(): Promise<PassSummary> {
    const p = this.doPass().finally(() => {
      this.pass = null;
    });
    this.pass = p;
    return p;
  }

  /**
   * One pass: settle what executors report lost, create and start runs, (periodically) reap and
   * check, evaluate the runs that need it, queue what is scheduled, hand callbacks to the executor.
   */
  private async doPass(): Promise<PassSummary> {
    const w = this.wants;
    this.wants = { full: false, create: false, start: false, queue: false, sla: false };
    const runs = this.takeDirty(w.full);
    if (!w.full) runs.push(...(await this.takePastDirty()));
    else this.pastDirty.clear();
    const summary: PassSummary = {
      created: 0,
      started: 0,
      evaluated: 0,
      scheduled: 0,
      queued: 0,
      finishedRuns: 0,
      reaped: 0,
      callbacks: 0,
    };
    const callbacks: Workload[] = [];
    await this.reapLost(summary, callbacks);
    let start = w.start || w.full;
    if (w.full || w.create) start = (await this.createRuns(summary)) || start;
    if (start) runs.push(...(await this.startRuns(summary)));
    if (w.full) await this.periodicChecks(summary, callbacks);
    // Deadlines move when runs start; they are checked when one comes (the loop sleeps until it).
    if (w.full || w.sla || summary.started > 0) {
      const sla = await checkSlas(this.ctx);
      const deadlines = await checkDeadlines(this.ctx);
      callbacks.push(...sla.callbacks, ...deadlines.callbacks);
      // One timer for task SLAs and DAG deadline alerts: the loop wakes for the nearer one.
      this.nextSlaAt = minOrNull(sla.nextAt, deadlines.nextAt);
    }
    if (w.full || runs.length > 0)
      await this.evaluateRuns(w.full ? undefined : dedupe(runs), summary, callbacks);
    if (w.full || w.queue || summary.scheduled > 0) await this.queue(summary);
    // The pass loaded the plans it evaluated: ends seen without a plan are decided now.
    for (const u of this.pastUnknown.splice(0))
      if (peekDag(u.dagId) !== undefined) this.notePast(u.dagId, u.taskId);
    for (const cb of callbacks) this.ctx.executor.queueWorkload(cb);
    summary.callbacks = callbacks.length;
    return summary;
  }

  /** Tries whose runner the executor saw die: failed or retried at once. */
  private async reapLost(summary: PassSummary, callbacks: Workload[]): Promise<void> {
    for (const l of this.lost.splice(0)) {
      // A try its worker died holding, whose start the server never saw: queued again, same try.
      if (l.maybeNotStarted && (await requeueNotStarted(this.ctx.db, [{ kind: "task", ...l }])) > 0) {
        this.ctx.logger.warn(
          { dag_id: l.ti.dag_id, task_id: l.ti.task_id, try_number: l.try_number, reason: l.reason },
          "a try lost before it started is queued again without using up a try",
        );
        continue;
      }
      const r = await reapLostTry(this.ctx, l.ti, l.try_number, l.reason);
      summary.reaped += r.reaped.length;
      // A runner the executor saw die mid-try is a zombie too, found sooner than by its heartbeat.
      if (r.reaped.length > 0) this.ctx.metrics.incr("zombies_killed", r.reaped.length);
      callbacks.push(...r.callbacks);
    }
  }

  /** Scheduled runs that are due; true when any was created. */
  private async createRuns(summary: PassSummary): Promise<boolean> {
    const created = [...(await createDagRuns(this.ctx)), ...(await createAssetTriggeredRuns(this.ctx))];
    summary.created = created.length;
    for (const c of created)
      if (c.scheduleDelayMs !== null)
        this.ctx.metrics.timing("dagrun.schedule_delay", c.scheduleDelayMs, { dag_id: c.dagId });
    for (const c of created)
      this.ctx.events?.emit({ type: "dag_run_created", dag_id: c.dagId, run_id: c.runId });
    return created.length > 0;
  }

  /** Queued runs that may start (max_active_runs); they are evaluated in this pass. */
  private async startRuns(summary: PassSummary): Promise<RunRef[]> {
    const started = await startQueuedRuns(this.ctx);
    summary.started = started.length;
    return started;
  }

  /** The periodic pass's safety nets: lost heartbeats, stuck queues, timeouts, SLAs, adoption. */
  private async periodicChecks(summary: PassSummary, callbacks: Workload[]): Promise<void> {
    const ctx = this.ctx;
    const reaped = await reapStaleHeartbeats(ctx);
    summary.reaped += reaped.reaped.length;
    // Tries whose runner stopped heartbeating: Airflow's zombies.
    if (reaped.reaped.length > 0) ctx.metrics.incr("zombies_killed", reaped.reaped.length);
    callbacks.push(...reaped.callbacks);
    summary.reaped += (await reapQueuedTooLong(ctx)).length;
    // Scheduled here, they are queued by this same pass.
    await timeOutDeferredTries(ctx);
    await releaseRestarting(ctx);
    const checks = await checkRunningRuns(ctx);
    callbacks.push(...this.dagCallbacks(checks.timedOut));
    for (const f of checks.timedOut)
      if (f.durationMs !== null)
        ctx.metrics.timing("dagrun.duration.failed", f.durationMs, { dag_id: f.dagId });
    traceRunEnds(ctx, checks.timedOut);
    // Every periodic pass (decision 0008 §2), so work queued by a dead scheduler waits at most
    // staleJobAfterS + one heartbeat.
    if (ctx.jobId !== null) await this.adopt();
    emitExecutorMetrics(ctx);
    await emitPoolMetrics(ctx).catch((err: unknown) =>
      ctx.logger.warn({ err: String(err) }, "Reading pool metrics failed"),
    );
  }

  private async adopt(): Promise<void> {
    const adopted = await adoptOrphans(this.ctx, this.staleJobAfterS);
    if (adopted.length > 0) {
      this.ctx.logger.info(
        { count: adopted.length },
        "Adopted task instances queued by schedulers that are gone",
      );
    }
    // Runners that outlive their scheduler (Pods): their executors take over those of gone ones.
    const runners = await adoptRunners(this.ctx);
    if (runners > 0) this.ctx.logger.info({ count: runners }, "Adopted runners of schedulers that are gone");
  }

  /** Evaluates the given runs (every running run when undefined); finished runs get their callbacks. */
  private async evaluateRuns(
    runs: RunRef[] | undefined,
    summary: PassSummary,
    callbacks: Workload[],
  ): Promise<void> {
    const result = await scheduleRuns(this.ctx, runs);
    summary.evaluated = result.evaluated;
    summary.scheduled = result.scheduled;
    summary.finishedRuns = result.finished.length;
    for (const f of result.finished)
      if (f.durationMs !== null)
        this.ctx.metrics.timing(`dagrun.duration.${f.state}`, f.durationMs, { dag_id: f.dagId });
    traceRunEnds(this.ctx, result.finished);
    callbacks.push(...this.dagCallbacks(result.finished));
    for (const dagId of result.pastChanged) this.pastDirty.add(dagId);
    // A finished run frees a max_active_runs slot.
    if (result.finished.length > 0) this.wants.start = true;
    if (result.busy.length > 0) {
      for (const r of result.busy) this.markDirty(r);
      setTimeout(() => this.wake?.(), BUSY_RETRY_MS).unref?.();
    }
  }

  /** The one queuing path (queue-pass.ts): as many as each executor takes now. */
  private async queue(summary: PassSummary): Promise<void> {
    const r = await queuePass(this.ctx);
    summary.queued = r.queued;
    for (const k of r.poolMissing) {
      this.ctx.logger.error({ ...k }, "Task instance failed: its pool does not exist");
      this.markDirty({ dagId: k.dag_id, runId: k.run_id });
    }
    if (r.again) this.wants.queue = true;
  }

  private dagCallbacks(finished: readonly FinishedRun[]): Workload[] {
    const out: Workload[] = [];
    for (const f of finished) {
      const dag = f.plan?.dag;
      const wanted = f.state === "success" ? dag?.has_on_success_callback : dag?.has_on_failure_callback;
      if (wanted !== true) continue;
      const ti = f.lastTi ?? { task_id: dag?.tasks[0]?.task_id ?? "", map_index: -1, try_number: 1 };
      out.push(
        callbackWorkload(
          this.ctx.signer,
          f.plan,
          f.state === "success" ? "dag_success" : "dag_failure",
          { dag_id: f.dagId, run_id: f.runId, task_id: ti.task_id, map_index: ti.map_index },
          ti.try_number,
          f.state === "failed" ? { error: "The DAG run failed." } : {},
        ),
      );
    }
    return out;
  }
}

/** Each ended run's root span (its start from the duration the ending statement returned). */
function traceRunEnds(ctx: SchedulerContext, finished: readonly FinishedRun[]): void {
  if (!ctx.traces.enabled) return;
  const end = new Date();
  for (const f of finished)
    ctx.traces.runEnded({
      dag_id: f.dagId,
      run_id: f.runId,
      state: f.state,
      start: f.durationMs === null ? null : new Date(end.getTime() - f.durationMs),
      end,
    });
}

function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/** One request per run; a whole-run evaluation wins over a scoped one. */
function dedupe(runs: readonly RunRef[]): RunRef[] {
  const m = new Map<string, RunRef>();
  for (const r of runs) {
    const k = runKey(r.dagId, r.runId);
    const had = m.get(k);
    if (had === undefined || r.tasks === undefined) m.set(k, r);
    else if (had.tasks !== undefined) m.set(k, { ...r, tasks: [...new Set([...had.tasks, ...r.tasks])] });
  }
  return [...m.values()];
}
