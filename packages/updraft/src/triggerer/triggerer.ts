// The triggerer (decision 0030): runs the triggers of deferred tasks in one event loop — each a
// promise, thousands at once — and settles each fired one with one statement that schedules its
// task again. Several triggerers share the work through claims in the trigger table (FOR UPDATE
// SKIP LOCKED); each holds a `job` row it heartbeats, and one whose heartbeat goes stale has its
// triggers taken over. A trigger is settled only by the triggerer that holds it, so none fires twice.
import { hostname } from "node:os";
import {
  TRIGGERER_JOB_TYPE,
  claimTriggers,
  deleteUnusedTriggers,
  endJob,
  heartbeatJob,
  heldTriggerIds,
  releaseTriggers,
  startJob,
  type Cipher,
  type ClaimedTrigger,
  type Executor,
} from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import { noopMetrics, type Metrics } from "../metrics/index.js";
import { getConnectionForTask, submitTriggerEvents, type FiredTrigger } from "../services/index.js";
import type { Connection } from "../sdk/context.js";
import { TriggerLoader } from "./load-trigger.js";
import type { BuiltinContext } from "./runtime.js";

export interface TriggererLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface TriggererOptions {
  db: Executor;
  cipher: Cipher;
  events: EngineEvents | null;
  logger: TriggererLogger;
  /** Triggers run at once by this triggerer (triggerer.capacity). */
  capacity: number;
  /** Seconds between job heartbeats (triggerer.heartbeat_interval). */
  heartbeatIntervalS: number;
  /** Seconds without a heartbeat after which another triggerer takes the triggers over (triggerer.stale_after). */
  staleAfterS: number;
  /** Seconds between checks for new and lost triggers (triggerer.poll_interval); events claim sooner. */
  pollIntervalS: number;
  /** Where user triggers' modules are transpiled to. */
  cacheDir: string;
  /** Where Airflow's triggerer metrics go (default: nowhere). */
  metrics?: Metrics;
}

interface Running {
  abort: AbortController;
  classpath: string;
}

/** How long fired events are gathered before one statement settles them (many fire together). */
const FLUSH_DELAY_MS = 5;
/** How often the event loop's lag is measured, and the lag that counts as blocked (Airflow's 0.2 s). */
const LAG_CHECK_MS = 100;
const BLOCKED_AFTER_MS = 200;

export class Triggerer {
  private jobId: number | null = null;
  private readonly running = new Map<number, Running>();
  private readonly loader: TriggerLoader;
  private pending: FiredTrigger[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private flushActive = false;
  private loop: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopping = false;
  private lastBeat = 0;
  private ticks = 0;
  private unsubscribe: (() => void) | null = null;
  private claimSoon = false;
  private lagCheck: NodeJS.Timeout | null = null;
  private readonly metrics: Metrics;
  private readonly host = hostname();

  constructor(private readonly o: TriggererOptions) {
    this.loader = new TriggerLoader(o.cacheDir);
    this.metrics = o.metrics ?? noopMetrics;
  }

  /** The job id (for tests and logs); null before start. */
  get id(): number | null {
    return this.jobId;
  }

  /** How many triggers run now. */
  get size(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    const job = await startJob(this.o.db, {
      jobType: TRIGGERER_JOB_TYPE,
      hostname: hostname(),
      pid: process.pid,
    });
    this.jobId = job.id;
    this.lastBeat = Date.now();
    this.unsubscribe =
      this.o.events?.on((e) => {
        if (e.type === "trigger_created") this.kick();
      }) ?? null;
    this.o.logger.info({ job_id: job.id, capacity: this.o.capacity }, "Triggerer started");
    this.watchLag();
    await this.tick();
    this.schedule();
  }

  /**
   * Airflow's triggers.blocked_main_thread: every trigger shares this event loop, so one that
   * computes synchronously delays all. A timer that fires more than 0.2 s late says so, while a
   * trigger runs: with none, no trigger was delayed and none can be blamed (in standalone or
   * `tasks test` the loop is shared with the processor's compiles).
   */
  private watchLag(): void {
    let expected = performance.now() + LAG_CHECK_MS;
    this.lagCheck = setInterval(() => {
      const now = performance.now();
      const lagMs = now - expected;
      expected = now + LAG_CHECK_MS;
      if (lagMs > BLOCKED_AFTER_MS && this.running.size > 0) {
        this.metrics.incr("triggers.blocked_main_thread");
        this.o.logger.warn(
          { lag_ms: Math.round(lagMs), running: this.running.size },
          "The triggerer's event loop was blocked; a trigger computes synchronously instead of awaiting",
        );
      }
    }, LAG_CHECK_MS);
    this.lagCheck.unref();
  }

  /** triggers.running and triggerer.capacity_left, per triggerer (hostname) as in Airflow. */
  private emitGauges(): void {
    const tags = { hostname: this.host };
    this.metrics.gauge("triggers.running", this.running.size, tags);
    this.metrics.gauge("triggerer.capacity_left", this.o.capacity - this.running.size, tags);
  }

  /** Claims new triggers soon (an event said one was created). */
  private kick(): void {
    if (this.stopping || this.claimSoon) return;
    this.claimSoon = true;
    setTimeout(() => {
      this.claimSoon = false;
      void this.runTick();
    }, 10).unref();
  }

  private schedule(): void {
    if (this.stopping) return;
    this.loop = setTimeout(() => {
      void this.runTick().finally(() => this.schedule());
    }, this.o.pollIntervalS * 1000);
    this.loop.unref();
  }

  private runTick(): Promise<void> {
    this.ticking ??= this.tick()
      .catch((err: unknown) => this.o.logger.error({ err: String(err) }, "Triggerer pass failed; retrying"))
      .finally(() => (this.ticking = null));
    return this.ticking;
  }

  /** One pass: heartbeat, drop triggers no longer ours, claim up to capacity, clean unused rows. */
  private async tick(): Promise<void> {
    const id = this.jobId;
    if (id === null || this.stopping) return;
    const db = this.o.db;
    if (Date.now() - this.lastBeat >= this.o.heartbeatIntervalS * 1000) {
      await heartbeatJob(db, { id, jobType: TRIGGERER_JOB_TYPE, hostname: hostname(), pid: process.pid });
      this.lastBeat = Date.now();
      this.metrics.incr("triggerer_heartbeat");
    }
    if (this.running.size > 0) {
      const held = await heldTriggerIds(db, id);
      for (const [tid, r] of this.running)
        if (!held.has(tid)) {
          // Taken over (this triggerer was stale) or no longer wanted (the task was cleared).
          this.running.delete(tid);
          r.abort.abort(new Error("The trigger is no longer held by this triggerer."));
        }
    }
    const room = this.o.capacity - this.running.size;
    if (room > 0) {
      const claimed = await claimTriggers(db, id, room, this.o.staleAfterS);
      for (const t of claimed) this.run(t);
      if (claimed.length > 0)
        this.o.logger.info({ count: claimed.length, running: this.running.size }, "Claimed triggers");
    }
    this.emitGauges();
    if (++this.ticks % 10 === 0) await deleteUnusedTriggers(db);
  }

  private context(triggerId: number, signal: AbortSignal): BuiltinContext {
    const { db, cipher, logger } = this.o;
    return {
      signal,
      db,
      log: (message) => logger.info({ trigger_id: triggerId }, message),
      async connection(connId): Promise<Connection> {
        const c = await getConnectionForTask(db, cipher, connId);
        return {
          ...c,
          getUri: () => `${c.conn_type}://${c.host ?? ""}${c.port === null ? "" : `:${c.port}`}`,
        };
      },
    };
  }

  /** Starts one trigger; its end (event or error) is queued for the next flush. */
  private run(t: ClaimedTrigger): void {
    if (this.running.has(t.id)) return;
    const abort = new AbortController();
    this.running.set(t.id, { abort, classpath: t.classpath });
    void (async () => {
      let fired: FiredTrigger;
      try {
        const fn = await this.loader.load(t.classpath);
        const payload = await fn(t.kwargs, this.context(t.id, abort.signal));
        fired = { trigger_id: t.id, payload };
        if (!abort.signal.aborted) this.metrics.incr("triggers.succeeded");
      } catch (err) {
        if (abort.signal.aborted) return;
        this.metrics.incr("triggers.failed");
        const message = err instanceof Error ? err.message : String(err);
        this.o.logger.warn({ trigger_id: t.id, classpath: t.classpath, err: message }, "Trigger failed");
        fired = { trigger_id: t.id, payload: null, error: message };
      }
      if (abort.signal.aborted || this.running.get(t.id)?.abort !== abort) return;
      this.pending.push(fired);
      if (!this.flushActive) this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    })();
  }

  /**
   * Settles the fired triggers gathered so far in one statement; while one runs, the next events
   * gather, and the next statement takes them all (batches grow with the load instead of queueing).
   */
  private flush(): void {
    this.flushTimer = null;
    if (this.flushActive || this.jobId === null) return;
    this.flushActive = true;
    const id = this.jobId;
    this.flushing = (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        for (let attempt = 0; ; attempt++) {
          try {
            await submitTriggerEvents(this.o.db, id, batch, this.o.events);
            break;
          } catch (err) {
            if (attempt >= 5) {
              // Still claimed by this triggerer: after a restart another one runs them again.
              this.o.logger.error(
                { err: String(err), count: batch.length },
                "Settling fired triggers failed",
              );
              break;
            }
            await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
          }
        }
        for (const f of batch) this.running.delete(f.trigger_id);
        this.emitGauges();
      }
    })().finally(() => {
      this.flushActive = false;
    });
  }

  /** Stops every trigger, settles what fired, gives the rest back, and ends the job. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.loop !== null) clearTimeout(this.loop);
    if (this.lagCheck !== null) clearInterval(this.lagCheck);
    this.unsubscribe?.();
    await this.ticking;
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flush();
    }
    await this.flushing;
    for (const r of this.running.values()) r.abort.abort(new Error("The triggerer is stopping."));
    this.running.clear();
    if (this.jobId !== null) {
      await releaseTriggers(this.o.db, this.jobId).catch(() => undefined);
      await endJob(this.o.db, this.jobId).catch(() => undefined);
    }
  }
}
