// The scheduler loop. Event-driven: a finished task, a new run or a free executor slot requests a
// pass at once; requests arriving during a pass are coalesced into the next one, and one process
// never runs two passes at the same time. A periodic pass (scheduler.scheduler_heartbeat_sec) is
// the safety net: it evaluates every running run and does the reaping and run checks.
import { hostname } from "node:os";
import type { UpdraftConfig } from "../config/index.js";
import { endJob, heartbeatJob, startJob, type Database } from "../db/index.js";
import type { EngineEvent, EngineEvents } from "../events/engine-events.js";
import type { Executor, ExecutorEvent } from "../executors/executor.js";
import type { TaskInstanceKey, Workload } from "../model/execution-api.js";
import {
  quietLogger,
  runKey,
  type SchedulerClock,
  type SchedulerContext,
  type SchedulerHooks,
  type SchedulerLogger,
} from "./context.js";
import { createDagRuns } from "./create-dag-runs.js";
import { queueTaskInstances, type QueueResult } from "./queue-task-instances.js";
import {
  adoptOrphans,
  reapLostTry,
  reapQueuedTooLong,
  reapStaleHeartbeats,
  releaseRestarting,
  requeueNotStarted,
} from "./reap.js";
import { checkRunningRuns } from "./run-checks.js";
import { scheduleRuns, type FinishedRun, type RunRef } from "./schedule-runs.js";
import { startQueuedRuns } from "./start-queued-runs.js";
import { callbackWorkload } from "./workloads.js";

export interface SchedulerOptions {
  database: Database;
  config: UpdraftConfig;
  executor: Executor;
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
}

const BUSY_RETRY_MS = 5;

export class Scheduler {
  private readonly ctx: SchedulerContext;
  private readonly staleJobAfterS: number;
  private readonly heartbeatMs: number;
  private readonly dirty = new Map<string, RunRef>();
  private readonly lost: { ti: TaskInstanceKey; try_number: number; reason: string }[] = [];
  private wants: Wants = { full: false, create: false, start: false, queue: false };
  private pass: Promise<PassSummary> | null = null;
  private loopDone: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;
  private unsubscribe: (() => void)[] = [];

  constructor(options: SchedulerOptions) {
    this.ctx = {
      database: options.database,
      db: options.database.db,
      config: options.config,
      executor: options.executor,
      events: options.events ?? null,
      logger: options.logger ?? quietLogger,
      hooks: options.hooks ?? {},
      clock: options.clock ?? { now: () => Date.now() },
      apiUrl: options.apiUrl,
      secretKey: options.secretKey,
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
    this.unsubscribe.push(this.ctx.executor.onEvent((e) => this.onExecutorEvent(e)));
    const adopted = await adoptOrphans(this.ctx, this.staleJobAfterS);
    if (adopted.length > 0) {
      this.ctx.logger.info(
        { count: adopted.length },
        "Adopted task instances queued by schedulers that are gone",
      );
    }
    this.wants.full = true;
    this.loopDone = this.loop();
  }

  /**
   * Stops the loop after the current pass and ends the job. With `stopExecutor`, also stops the
   * executor and sends the workloads it never started back to scheduled.
   */
  async stop(options: { stopExecutor?: boolean } = {}): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loopDone;
    this.loopDone = null;
    for (const u of this.unsubscribe.splice(0)) u();
    if (options.stopExecutor === true) {
      const result = await this.ctx.executor.stop();
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
    this.dirty.set(runKey(dagId, runId), { dagId, runId });
    this.wants.queue = true;
    this.wake?.();
  }

  private onEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case "ti_finished":
        this.dirty.set(runKey(e.dag_id, e.run_id), { dagId: e.dag_id, runId: e.run_id });
        this.wants.queue = true;
        break;
      case "ti_state_changed":
        this.dirty.set(runKey(e.dag_id, e.run_id), { dagId: e.dag_id, runId: e.run_id });
        this.wants.start = true;
        this.wants.queue = true;
        break;
      case "dag_run_created":
        this.dirty.set(runKey(e.dag_id, e.run_id), { dagId: e.dag_id, runId: e.run_id });
        this.wants.start = true;
        break;
      case "dag_changed":
        this.wants.create = true;
        break;
      case "executor_slot_free":
        this.wants.queue = true;
        break;
    }
    this.wake?.();
  }

  private onExecutorEvent(e: ExecutorEvent): void {
    if (e.kind === "task") {
      this.dirty.set(runKey(e.ti.dag_id, e.ti.run_id), { dagId: e.ti.dag_id, runId: e.ti.run_id });
      if (e.type === "lost") this.lost.push({ ti: e.ti, try_number: e.try_number, reason: e.reason });
    }
    this.wants.queue = true;
    this.wake?.();
  }

  private hasWants(): boolean {
    const w = this.wants;
    return w.full || w.create || w.start || w.queue || this.dirty.size > 0 || this.lost.length > 0;
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
      await this.sleep(Math.max(0, Math.min(nextPeriodic, nextHeartbeat) - clock.now()));
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

  private async doPass(): Promise<PassSummary> {
    const ctx = this.ctx;
    const w = this.wants;
    this.wants = { full: false, create: false, start: false, queue: false };
    const full = w.full;
    const runs = [...this.dirty.values()];
    this.dirty.clear();
    const lost = this.lost.splice(0);
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

    let eventQueued: QueueResult | null = null;
    const callbacks: Workload[] = [];
    for (const l of lost) {
      const r = await reapLostTry(ctx, l.ti, l.try_number, l.reason);
      summary.reaped += r.reaped.length;
      callbacks.push(...r.callbacks);
    }

    let start = w.start || full;
    if (full || w.create) {
      const created = await createDagRuns(ctx);
      summary.created = created.length;
      if (created.length > 0) start = true;
      for (const c of created)
        ctx.events?.emit({ type: "dag_run_created", dag_id: c.dagId, run_id: c.runId });
    }
    if (start) {
      const started = await startQueuedRuns(ctx);
      summary.started = started.length;
      runs.push(...started);
    }

    if (full) {
      const reaped = await reapStaleHeartbeats(ctx);
      summary.reaped += reaped.reaped.length;
      callbacks.push(...reaped.callbacks);
      summary.reaped += (await reapQueuedTooLong(ctx)).length;
      await releaseRestarting(ctx);
      const checks = await checkRunningRuns(ctx);
      callbacks.push(...checks.callbacks);
      callbacks.push(...this.dagCallbacks(checks.timedOut));
      // Every periodic pass (decision 0008 §2), so work queued by a dead scheduler waits at most
      // staleJobAfterS + one heartbeat. Counting passes instead let it wait up to 30 idle
      // heartbeats more, and ran the query many times a second under load.
      if (ctx.jobId !== null) {
        const adopted = await adoptOrphans(ctx, this.staleJobAfterS);
        if (adopted.length > 0)
          ctx.logger.info(
            { count: adopted.length },
            "Adopted task instances queued by schedulers that are gone",
          );
      }
    }

    if (full || runs.length > 0) {
      // An event pass (not the periodic one) evaluates and queues in one transaction.
      const budget = full ? undefined : Math.min(ctx.config.core.parallelism, ctx.executor.openSlots());
      const result = await scheduleRuns(ctx, full ? undefined : dedupe(runs), undefined, budget);
      if (result.queued !== undefined) {
        eventQueued = result.queued;
        summary.queued = eventQueued.workloads.length;
        for (const wl of eventQueued.workloads) ctx.executor.queueWorkload(wl);
      }
      summary.evaluated = result.evaluated;
      summary.scheduled = result.scheduled;
      summary.finishedRuns = result.finished.length;
      callbacks.push(...this.dagCallbacks(result.finished));
      // A finished run frees a max_active_runs slot.
      if (result.finished.length > 0) this.wants.start = true;
      if (result.busy.length > 0) {
        for (const r of result.busy) this.dirty.set(runKey(r.dagId, r.runId), r);
        setTimeout(() => this.wake?.(), BUSY_RETRY_MS).unref?.();
      }
    }

    if (eventQueued !== null) {
      for (const k of eventQueued.poolMissing) {
        ctx.logger.error({ ...k }, "Task instance failed: its pool does not exist");
        this.dirty.set(runKey(k.dag_id, k.run_id), { dagId: k.dag_id, runId: k.run_id });
      }
      if (eventQueued.more && ctx.executor.openSlots() > 0) this.wants.queue = true;
    } else if (full || w.queue || summary.scheduled > 0) {
      const budget = Math.min(ctx.config.core.parallelism, ctx.executor.openSlots());
      const queued = await queueTaskInstances(ctx, budget);
      summary.queued = queued.workloads.length;
      for (const wl of queued.workloads) ctx.executor.queueWorkload(wl);
      for (const k of queued.poolMissing) {
        ctx.logger.error({ ...k }, "Task instance failed: its pool does not exist");
        this.dirty.set(runKey(k.dag_id, k.run_id), { dagId: k.dag_id, runId: k.run_id });
      }
      if (queued.more && queued.workloads.length === budget && ctx.executor.openSlots() > 0)
        this.wants.queue = true;
    }

    for (const cb of callbacks) ctx.executor.queueWorkload(cb);
    summary.callbacks = callbacks.length;
    return summary;
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
          this.ctx,
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

function dedupe(runs: readonly RunRef[]): RunRef[] {
  const m = new Map<string, RunRef>();
  for (const r of runs) m.set(runKey(r.dagId, r.runId), r);
  return [...m.values()];
}
