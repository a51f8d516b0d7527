// Runs workloads on long-lived `updraft worker` processes through Redis (the CeleryExecutor's
// role, issue 12, decision 0025). Each workload becomes a BullMQ job on the queue its task names,
// with a job id derived from the try, so that queueing a try twice is one job. Workers answer on
// this executor's results stream; the executor also reads the workers' registry and reports the
// tries of a worker that stopped heartbeating as lost, so that the scheduler fails or retries them
// through its normal, guarded path. Redis going away is survived: connections retry for ever, and
// what Redis forgot is re-queued by the scheduler's task_queued_timeout.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { Workload } from "../../model/execution-api.js";
import { listWorkers, QUEUE_NAME_PATTERN, type WorkerRecord } from "../../queue/index.js";
import {
  stderrLogger,
  type Executor,
  type ExecutorListener,
  type ExecutorLogger,
  type StopOptions,
  type StopResult,
} from "../executor.js";
import { ExecutorListeners } from "../listeners.js";
import { claimHandBacks, recallLostWith } from "./hand-backs.js";
import { LostTries, type InFlight } from "./lost-tries.js";
import type { QueueExecutorOptions } from "./options.js";
import {
  bullPriority,
  jobIdOf,
  queueOf,
  resultsKey,
  tryKey,
  type QueueJobData,
  type QueueResult,
} from "./protocol.js";

/** ioredis reports every failed reconnect: one line per connection every 30 s is enough. */
function throttledErrorLog(logger: ExecutorLogger, what: string): (err: Error) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 30_000) return;
    last = Date.now();
    logger.warn({ err: err.message }, `${what}: Redis unreachable, reconnecting`);
  };
}

/** How often the executor trims what it read from its results stream. */
const TRIM_EVERY_MS = 1000;

export class QueueExecutor implements Executor {
  readonly name = "QueueExecutor";
  readonly owner: string;
  readonly parallelism: number;
  private readonly prefix: string;
  private readonly staleAfterS: number;
  private readonly checkMs: number;
  private readonly logger: ExecutorLogger;
  private readonly listeners: ExecutorListeners;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly queues = new Map<string, Queue>();
  private readonly lostTries: LostTries;
  /** Tries the alive, running workers take at once (their capacity), at the last registry read; 0 unknown. */
  private workerCapacity = 0;
  private client: Redis | null = null;
  private reader: Redis | null = null;
  private lastId = "0-0";
  private lastTrimAt = 0;
  private stopping = false;
  private readLoop: Promise<void> | null = null;
  private checkTimer: NodeJS.Timeout | undefined;
  /** The registry check under way: checks never overlap (a loss must not be reported twice). */
  private checking: Promise<number> | null = null;

  constructor(private readonly options: QueueExecutorOptions) {
    this.parallelism = Math.max(1, Math.floor(options.parallelism));
    this.prefix = options.prefix;
    this.staleAfterS = options.staleAfterS;
    this.checkMs =
      options.lostCheckIntervalMs ?? Math.max(1000, Math.min(5000, (options.staleAfterS * 1000) / 3));
    this.owner = options.owner ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.logger = options.logger ?? stderrLogger;
    this.listeners = new ExecutorListeners(this.logger);
    this.lostTries = new LostTries(options.staleAfterS);
  }

  /** Connects (in the background: an unreachable Redis is retried, never fatal) and starts reading results. */
  async start(): Promise<void> {
    if (this.client !== null) return;
    this.client = new Redis({ ...this.options.redis, connectionName: "updraft-executor" });
    this.client.on("error", throttledErrorLog(this.logger, "QueueExecutor"));
    this.reader = new Redis({ ...this.options.redis, connectionName: "updraft-executor-results" });
    this.reader.on("error", throttledErrorLog(this.logger, "QueueExecutor results"));
    this.readLoop = this.readResults();
    this.checkTimer = setInterval(() => {
      if (this.checking === null) void this.checkWorkers();
    }, this.checkMs);
    void this.checkWorkers();
    this.checkTimer.unref();
  }

  queueWorkload(workload: Workload): void {
    if (this.stopping) throw new Error("The QueueExecutor is stopping and takes no more workloads.");
    if (this.client === null) void this.start();
    const key = tryKey(workload);
    const queue = queueOf(workload);
    if (!QUEUE_NAME_PATTERN.test(queue)) {
      queueMicrotask(() =>
        this.emitLost(
          workload,
          `the task's queue "${queue}" is not a valid queue name: use letters, digits, "_", "-" and "." only`,
        ),
      );
      return;
    }
    if (!this.inFlight.has(key)) this.inFlight.set(key, { workload, worker: null });
    const data: QueueJobData = { workload, owner: this.owner };
    this.queueFor(queue)
      .add("workload", data, {
        jobId: jobIdOf(workload),
        priority: bullPriority(workload),
        removeOnComplete: true,
        removeOnFail: true,
      })
      .catch((err: unknown) =>
        // Kept in flight: the scheduler's task_queued_timeout queues it again if no worker ever ran it.
        this.logger.error(
          { queue, task_id: workload.ti.task_id, err: err instanceof Error ? err.message : String(err) },
          "could not put the workload on its queue",
        ),
      );
  }

  private queueFor(name: string): Queue {
    let q = this.queues.get(name);
    if (q === undefined) {
      q = new Queue(name, { connection: this.client as Redis, prefix: this.prefix });
      q.on("error", () => undefined); // the shared connection's own handler logs it
      this.queues.set(name, q);
    }
    return q;
  }

  /**
   * core.parallelism minus the tries in flight, and no more than the alive workers run at once
   * (when any is known): what cannot start now stays scheduled, so that a worker's runner takes it
   * with its finish (hand-over, one request) instead of through a queued job (three).
   */
  openSlots(): number {
    const cap = this.workerCapacity > 0 ? Math.min(this.parallelism, this.workerCapacity) : this.parallelism;
    return Math.max(0, cap - this.inFlight.size);
  }

  stats(): { queued: number; busy: number } {
    let busy = 0;
    for (const f of this.inFlight.values()) if (f.worker !== null) busy++;
    return { queued: this.inFlight.size - busy, busy };
  }

  onEvent(listener: ExecutorListener): () => void {
    return this.listeners.add(listener);
  }

  /** Tries in flight and the worker of each (null: not taken yet), for tests and diagnostics. */
  tries(): { key: string; worker: string | null }[] {
    return [...this.inFlight].map(([key, f]) => ({ key, worker: f.worker }));
  }

  private emitLost(w: Workload, reason: string, maybeNotStarted = false): void {
    this.inFlight.delete(tryKey(w));
    this.listeners.emit({
      type: "lost",
      kind: w.kind,
      ti: w.ti,
      try_number: w.try_number,
      reason,
      ...(maybeNotStarted ? { maybeNotStarted } : {}),
    });
  }

  /** Applies one message from the results stream. */
  handleResult(r: QueueResult): void {
    if (r.type === "taken") {
      const f = this.inFlight.get(r.key);
      if (f !== undefined) {
        f.worker = r.worker;
        f.assignedAt = Date.now();
      }
      return;
    }
    this.inFlight.delete(r.key);
    this.lostTries.settled(r.key);
    if (r.type === "lost") {
      this.listeners.emit({
        type: "lost",
        kind: r.kind,
        ti: r.ti,
        try_number: r.try_number,
        reason: r.reason,
      });
      return;
    }
    // The runner went on with a try the server handed it: it holds this slot now.
    if (r.next !== null)
      this.inFlight.set(tryKey(r.next), { workload: r.next, worker: r.worker, assignedAt: Date.now() });
    this.listeners.emit({
      type: "finished",
      kind: r.kind,
      ti: r.ti,
      try_number: r.try_number,
      state: r.state,
      runner_ms: r.runner_ms,
      next: r.next?.kind === "task" ? r.next : null,
    });
  }

  /** The results of one stream entry (protocol.ts: an array, or one object); none if unreadable. */
  private parseResults(text: string): QueueResult[] {
    try {
      const parsed = JSON.parse(text) as QueueResult | QueueResult[];
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err) }, "bad result message");
      return [];
    }
  }

  private async readResults(): Promise<void> {
    const key = resultsKey(this.prefix, this.owner);
    while (!this.stopping) {
      const reader = this.reader as Redis;
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await reader.xread("COUNT", 1000, "BLOCK", 2000, "STREAMS", key, this.lastId)) as
          | [string, [string, string[]][]][]
          | null;
      } catch {
        if (this.stopping) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (reply === null) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          this.lastId = id;
          const text = fields[1];
          if (text === undefined) continue;
          for (const r of this.parseResults(text)) {
            try {
              this.handleResult(r);
            } catch (err) {
              this.logger.error(
                { err: err instanceof Error ? err.message : String(err) },
                "bad result message",
              );
            }
          }
        }
      }
      // What is read is applied: the stream need not keep it. Trimmed about once a second, not
      // after every read: under load a read brings a result or two, and a trim each doubled the
      // Redis commands per try (the workers' MAXLEN bounds the stream meanwhile).
      if (Date.now() - this.lastTrimAt >= TRIM_EVERY_MS) {
        this.lastTrimAt = Date.now();
        this.client?.xtrim(key, "MINID", this.lastId).catch(() => undefined);
      }
    }
  }

  /**
   * Reads the registry: a try whose worker stopped heartbeating (or vanished from the registry
   * for stale_after) at two checks in a row is lost. Two checks, so that results the worker
   * wrote just before it stopped are read first. A check waits for the one under way.
   */
  async checkWorkers(): Promise<number> {
    while (this.checking !== null) await this.checking.catch(() => 0);
    const check = this.checkOnce();
    this.checking = check;
    try {
      return await check;
    } finally {
      if (this.checking === check) this.checking = null;
    }
  }

  private async checkOnce(): Promise<number> {
    if (this.client === null || this.client.status !== "ready") {
      this.lostTries.reset();
      return 0;
    }
    let records: WorkerRecord[];
    try {
      records = await listWorkers(this.client, this.prefix, this.staleAfterS);
    } catch {
      return 0;
    }
    const lost = await this.settleGone(records, Date.now());
    await this.forgetVanished(Date.now()).catch(() => undefined);
    return lost;
  }

  /**
   * A try no worker took whose job is gone from Redis (Redis restarted without its data) for
   * stale_after frees its slot: the scheduler's task_queued_timeout queues it again, with the
   * same try_number, and then it is in flight anew.
   */
  private async forgetVanished(nowMs: number): Promise<void> {
    const client = this.client as Redis;
    const waiting = [...this.inFlight].filter(([, f]) => f.worker === null);
    if (waiting.length === 0) return;
    const multi = client.multi();
    for (const [, f] of waiting) multi.exists(`${this.prefix}:${queueOf(f.workload)}:${jobIdOf(f.workload)}`);
    const replies = (await multi.exec()) ?? [];
    waiting.forEach(([key, f], i) => {
      const exists = replies[i]?.[1] === 1;
      if (exists || f.worker !== null) {
        delete f.vanishedSince;
        return;
      }
      f.vanishedSince ??= nowMs;
      if (nowMs - f.vanishedSince >= this.staleAfterS * 1000) {
        this.logger.warn(
          { task_id: f.workload.ti.task_id, try_number: f.workload.try_number },
          "the try's job vanished from Redis and no worker runs it: its slot is freed, the scheduler's queued timeout queues it again",
        );
        this.inFlight.delete(key);
      }
    });
  }

  /**
   * The registry-based lost detection on given records (called by checkWorkers; tests call it
   * with records of their own). Resolves with the number of tries reported lost.
   */
  async settleGone(records: WorkerRecord[], nowMs: number): Promise<number> {
    if (this.client !== null)
      await recallLostWith(this.client, this.prefix, this.lostTries, this.inFlight, records).catch(
        () => undefined,
      );
    const { capacity, lost, forgotten } = this.lostTries.check(this.inFlight, records, nowMs);
    this.workerCapacity = capacity;
    for (const key of forgotten) {
      const f = this.inFlight.get(key);
      if (f === undefined) continue;
      this.logger.warn(
        { task_id: f.workload.ti.task_id, worker: f.worker },
        "the try's worker no longer runs it and its result never arrived: its slot is freed",
      );
      this.inFlight.delete(key);
    }
    const firstHandBacks = await claimHandBacks(
      this.client,
      this.prefix,
      lost.filter((l) => l.maybeNotStarted),
      this.logger,
    );
    let reported = 0;
    for (const l of lost) {
      // A result that arrived while Redis answered has settled the try already.
      if (this.inFlight.get(l.key)?.workload !== l.workload) continue;
      this.logger.error({ task_id: l.workload.ti.task_id, reason: l.reason }, "try lost with its worker");
      this.emitLost(l.workload, l.reason, firstHandBacks.has(l.key));
      reported++;
    }
    return reported;
  }

  async stop(options: StopOptions = {}): Promise<StopResult> {
    void options;
    this.stopping = true;
    clearInterval(this.checkTimer);
    const notStarted: Workload[] = [];
    // Jobs no worker took yet are taken back, so that the next scheduler queues them afresh.
    if (this.client?.status === "ready") {
      for (const f of this.inFlight.values()) {
        if (f.worker !== null) continue;
        try {
          const removed = await this.queueFor(queueOf(f.workload)).remove(jobIdOf(f.workload));
          if (removed === 1) notStarted.push(f.workload);
        } catch {
          // Left on the queue: a worker runs it, and its guarded start decides.
        }
      }
    }
    this.reader?.disconnect();
    await this.readLoop;
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.client?.disconnect();
    return { notStarted };
  }
}
