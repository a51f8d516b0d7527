// The scheduler loop. Event-driven: a finished task, a new run or a free executor slot requests a
// pass at once; requests arriving during a pass are coalesced into the next one, and one process
// never runs two passes at the same time. A periodic pass (scheduler.scheduler_heartbeat_sec) is
// the safety net: it evaluates every running run and does the reaping and run checks.
import { hostname } from "node:os";
import type { UpdraftConfig } from "../config/index.js";
import { endJob, heartbeatJob, startJob, type Database } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { Executor } from "../executors/executor.js";
import { ExecutorSet } from "../executors/executor-set.js";
import type { Workload } from "../model/execution-api.js";
import {
  quietLogger,
  type SchedulerClock,
  type SchedulerContext,
  type SchedulerHooks,
  type SchedulerLogger,
} from "./context.js";
import { createAssetTriggeredRuns } from "./asset-runs.js";
import { createDagRuns } from "./create-dag-runs.js";
import { queuePass } from "./queue-pass.js";
import { reapLostTry, requeueNotStarted } from "./reap.js";
import { adoptFromGoneSchedulers, periodicChecks } from "./periodic-checks.js";
import { checkDeadlines } from "./deadlines.js";
import { checkSlas } from "./sla.js";
import { scheduleRuns, type RunRef } from "./schedule-runs.js";
import { startQueuedRuns } from "./start-queued-runs.js";
import { runningRuns } from "./running-runs.js";
import { noopMetrics, type Metrics } from "../metrics/index.js";
import { noopTraces, type Traces } from "../traces/index.js";
import { PendingWork, dedupe } from "./pending-work.js";
import { dagCallbacks, traceRunEnds } from "./run-ends.js";

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

const BUSY_RETRY_MS = 5;

export class Scheduler {
  private readonly ctx: SchedulerContext;
  private readonly staleJobAfterS: number;
  private readonly heartbeatMs: number;
  /** What events asked of the next pass; the pass takes it. */
  private readonly pending: PendingWork;
  /** The next SLA deadline of a running run (local clock), or null: the loop wakes for it. */
  private nextSlaAt: number | null = null;
  private pass: Promise<PassSummary> | null = null;
  private loopDone: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;
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
    this.pending = new PendingWork(clock, () => this.wake?.());
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
      this.unsubscribe.push(this.ctx.events.on((e) => this.pending.onEngineEvent(e)));
    }
    // Every executor's: a lost try is settled whichever reports it.
    this.unsubscribe.push(this.ctx.executors.onEvent((e) => this.pending.onExecutorEvent(e)));
    // At once: a scheduler restarted after a crash takes back what its dead predecessor queued.
    await adoptFromGoneSchedulers(this.ctx, this.staleJobAfterS);
    this.pending.want("full");
    this.loopDone = this.loop();
  }

  /**
   * Stops the loop after the current pass and ends the job. With `stopExecutor`, also stops the
   * executors and sends the workloads it never started back to scheduled.
   */
  async stop(options: { stopExecutor?: boolean } = {}): Promise<void> {
    this.stopping = true;
    this.pending.stop();
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
    this.pending.want("full");
    return this.runPass();
  }

  /** Asks for an evaluation of one run soon (as an event would). */
  requestRun(dagId: string, runId: string): void {
    this.pending.requestRun({ dagId, runId });
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
        this.pending.want("full");
      }
      if (this.nextSlaAt !== null && now >= this.nextSlaAt) {
        this.nextSlaAt = null;
        this.pending.want("sla");
      }
      if (this.pending.hasWants()) {
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
          this.pending.want("full");
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
    const w = this.pending.takeWants();
    const runs = this.pending.takeDirty(w.full);
    // The running runs of DAGs whose depends_on_past instances may go on (a full pass has them all).
    const pastDags = this.pending.takePastDags();
    if (!w.full) runs.push(...(await runningRuns(this.ctx.db, pastDags)));
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
    if (w.full) {
      const checked = await periodicChecks(this.ctx, this.staleJobAfterS);
      summary.reaped += checked.reaped;
      callbacks.push(...checked.callbacks);
    }
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
    this.pending.recheckPastUnknown();
    for (const cb of callbacks) this.ctx.executor.queueWorkload(cb);
    summary.callbacks = callbacks.length;
    return summary;
  }

  /** Tries whose runner the executor saw die: failed or retried at once. */
  private async reapLost(summary: PassSummary, callbacks: Workload[]): Promise<void> {
    for (const l of this.pending.takeLost()) {
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
    callbacks.push(...dagCallbacks(this.ctx.signer, result.finished));
    this.pending.notePastChanged(result.pastChanged);
    // A finished run frees a max_active_runs slot.
    if (result.finished.length > 0) this.pending.want("start");
    if (result.busy.length > 0) {
      for (const r of result.busy) this.pending.markDirty(r);
      setTimeout(() => this.wake?.(), BUSY_RETRY_MS).unref?.();
    }
  }

  /** The one queuing path (queue-pass.ts): as many as each executor takes now. */
  private async queue(summary: PassSummary): Promise<void> {
    const r = await queuePass(this.ctx);
    summary.queued = r.queued;
    for (const k of r.poolMissing) {
      this.ctx.logger.error({ ...k }, "Task instance failed: its pool does not exist");
      this.pending.markDirty({ dagId: k.dag_id, runId: k.run_id });
    }
    if (r.again) this.pending.want("queue");
  }
}

function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}
