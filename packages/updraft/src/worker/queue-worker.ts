// `updraft worker` (issue 12, decision 0025): takes workloads from the BullMQ queues it serves,
// never more than it can start now, and runs them with an in-process LocalExecutor (warm runner
// processes, timeouts, out-of-memory and lost-runner detection, hand-over of the next try). Every
// end is written to the results stream of the executor that queued the try. It heartbeats into the
// workers' registry; SIGTERM drains. It talks to Redis and the execution API only, never to the
// metadata database.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Worker, type ConnectionOptions, type Job } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { UPDRAFT_VERSION } from "../common/version.js";
import { LocalExecutor, type LocalExecutorOptions } from "../executors/local/index.js";
import type { ExecutorEvent, ExecutorLogger } from "../executors/executor.js";
import { tryKey, type QueueJobData, type QueueResult } from "../executors/queue/protocol.js";
import type { Workload } from "../model/execution-api.js";
import { writeHeartbeat, type WorkerHeartbeat } from "../queue/index.js";
import { ResultsOutbox } from "./results-outbox.js";
import { runnerShare } from "./runner-pool-share.js";

export interface QueueWorkerOptions {
  redis: RedisOptions;
  /** queue.key_prefix. */
  prefix: string;
  queues: string[];
  /** Tries running at once across all queues. */
  concurrency: number;
  heartbeatIntervalMs: number;
  /** Seconds without a heartbeat after which a worker counts as gone (worker.stale_after). */
  staleAfterS: number;
  /**
   * Warm runner processes for short tries (worker.runner_processes); 0: twice this machine's cores
   * shared among the workers alive on it (see sizeRunnerPool).
   */
  runnerProcesses: number;
  /** How long a drain waits for running tries before their runners are killed. */
  drainTimeoutMs: number;
  /** Tries after which the worker drains and exits (0: never). */
  maxTasks: number;
  serverUrl: string | null;
  /** Options of the in-process LocalExecutor (parallelism is the concurrency). */
  local?: LocalExecutorOptions;
  logger: ExecutorLogger;
}

interface Running {
  workload: Workload;
  /** The executor whose results stream hears about it. */
  owner: string;
}

export type WorkerState = "starting" | "running" | "draining" | "stopped";

/** Every runner busy this long with no try ending: the tries are long, take up to --concurrency. */
const STALL_MS = 1_000;

export class QueueWorker {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  state: WorkerState = "starting";
  /** Tries finished or lost since start. */
  finished = 0;
  /** Tries taken (jobs and handed-over tries) since start. */
  taken = 0;
  private readonly startedAt = new Date().toISOString();
  private readonly client: Redis;
  private readonly local: LocalExecutor;
  private readonly bull: Worker[] = [];
  private readonly running = new Map<string, Running>();
  private reserved = 0;
  /** The runner pool's eager size last set by sizeRunnerPool (0: the LocalExecutor's default). */
  private eagerRunners = 0;
  /** When a try last ended here (or the worker started): see capacity(). */
  private lastEndAt = Date.now();
  private slotWaiters: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private drained: Promise<void> | null = null;
  private readonly stoppedWaiters: (() => void)[] = [];
  /** Results on their way to the executors' streams. */
  private readonly outbox: ResultsOutbox;

  constructor(private readonly o: QueueWorkerOptions) {
    this.client = new Redis({ ...o.redis, connectionName: "updraft-worker" });
    let last = 0;
    this.client.on("error", (err: Error) => {
      if (Date.now() - last < 30_000) return;
      last = Date.now();
      o.logger.warn({ err: err.message }, "worker: Redis unreachable, reconnecting");
    });
    this.local = new LocalExecutor({
      ...o.local,
      ...(o.runnerProcesses > 0 ? { eagerProcesses: o.runnerProcesses } : {}),
      parallelism: o.concurrency,
      logger: o.logger,
    });
    this.local.onEvent((e) => this.onLocalEvent(e));
    this.outbox = new ResultsOutbox(this.client, o.prefix, o.logger);
  }

  /** True while connected to Redis. */
  get connected(): boolean {
    return this.client.status === "ready";
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Starts the runners, the heartbeat and one fetch loop per queue. */
  async start(): Promise<void> {
    await this.local.start();
    this.state = "running";
    for (const name of this.o.queues) {
      const w = new Worker(name, null, {
        connection: { ...this.o.redis, connectionName: "updraft-worker-fetch" } as ConnectionOptions,
        prefix: this.o.prefix,
        autorun: false,
        // Seconds a fetch blocks: short with several queues, so that slots rotate between them.
        drainDelay: this.o.queues.length > 1 ? 1 : 5,
        maxStalledCount: 1,
      });
      w.on("error", () => undefined); // the command connection's handler logs Redis trouble
      this.bull.push(w);
      // A job another worker fetched and died with before handing it on goes back to waiting, once.
      w.startStalledCheckTimer().catch(() => undefined);
      this.loops.push(this.fetchLoop(w));
    }
    await this.beat();
    await this.sizeRunnerPool();
    this.heartbeat = setInterval(() => {
      void this.beat().then(() => this.sizeRunnerPool());
      // The runner pool may have grown since the last end: loops waiting for a slot look again.
      this.freeSlot();
    }, this.o.heartbeatIntervalMs);
  }

  /**
   * Whether a fetch loop may reserve a slot: below --concurrency and below what the runner pool
   * starts now (its warm processes; the pool grows for tries that mostly wait). A job taken beyond
   * the pool would wait in the worker, and while anything waits there the runners may not take
   * their next try with a finish (hand-over), which is what keeps a busy worker fast.
   */
  private canTake(): boolean {
    if (this.state !== "running") return false;
    if (this.o.maxTasks > 0 && this.taken + this.reserved >= this.o.maxTasks) return false;
    return this.running.size + this.reserved < this.capacity();
  }

  /**
   * Tries this worker can run at once now: min(--concurrency, the runner pool's size) while tries
   * keep ending; --concurrency once every process has been busy for STALL_MS with none ending.
   * Long tries (sensors, waits on other systems) then still reach --concurrency: the jobs taken
   * beyond the pool wait in the LocalExecutor, which grows its pool for them.
   */
  private capacity(): number {
    const pool = this.running.size + Math.max(0, this.local.openSlots());
    const stalled = this.running.size >= pool && Date.now() - this.lastEndAt >= STALL_MS;
    return stalled ? this.o.concurrency : Math.min(this.o.concurrency, pool);
  }

  /** With worker.runner_processes = 0: the pool's eager size is this worker's share of the machine (runner-pool-share.ts), read at each heartbeat; the pool still grows past it for tries that mostly wait. */
  private async sizeRunnerPool(): Promise<void> {
    if (this.o.runnerProcesses > 0 || this.state !== "running") return;
    let eager: number;
    try {
      eager = await runnerShare(this.client, this.o.prefix, this.o.staleAfterS);
    } catch {
      return; // Redis away: the size stays; the next heartbeat tries again.
    }
    if (eager === this.eagerRunners) return;
    this.eagerRunners = eager;
    this.local.setEagerProcesses(eager);
    this.o.logger.debug({ eager }, "worker: runner pool sized for this machine");
    this.freeSlot();
  }

  private waitForSlot(): Promise<void> {
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private freeSlot(): void {
    for (const w of this.slotWaiters.splice(0)) w();
  }

  private async fetchLoop(w: Worker): Promise<void> {
    const token = `${this.id}-${w.name}`;
    while (this.state === "running") {
      if (!this.canTake()) {
        await this.waitForSlot();
        continue;
      }
      this.reserved++;
      let job: Job | undefined;
      try {
        job = await w.getNextJob(token, { block: true });
      } catch {
        this.reserved--;
        if (this.state !== "running") return;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      } finally {
        if (job === undefined) this.freeSlot();
      }
      this.reserved--;
      if (job !== undefined) await this.take(w, job, token);
      // Let a loop woken by freeSlot reserve before this one blocks again: with fewer slots than
      // queues, the queues take turns instead of one starving the others.
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Hands a fetched job to a runner, tells its owner, and completes the job (the try is ours now). */
  private async take(w: Worker, job: Job, token: string): Promise<void> {
    const data = job.data as QueueJobData;
    const key = tryKey(data.workload);
    this.running.set(key, { workload: data.workload, owner: data.owner });
    this.taken++;
    this.outbox.send(data.owner, { type: "taken", key, worker: this.id });
    try {
      this.local.queueWorkload(data.workload);
    } catch (err) {
      this.running.delete(key);
      this.outbox.send(
        data.owner,
        this.lostResult(data.workload, key, `the worker could not run it: ${String(err)}`),
      );
    }
    // Completed (and removed) at once: from here a dead worker is found by the executor through
    // the registry, not by BullMQ's stalled check, and the job cannot be delivered again.
    await job
      .moveToCompleted(null, token, false)
      .catch((err: unknown) =>
        this.o.logger.warn(
          { queue: w.name, err: err instanceof Error ? err.message : String(err) },
          "could not complete the job (its try runs; a redelivery would be refused by the guarded start)",
        ),
      );
  }

  private lostResult(w: Workload, key: string, reason: string): QueueResult {
    return { type: "lost", key, worker: this.id, kind: w.kind, ti: w.ti, try_number: w.try_number, reason };
  }

  private findRunning(e: ExecutorEvent): [string, Running] | undefined {
    for (const entry of this.running) {
      const w = entry[1].workload;
      if (
        w.kind === e.kind &&
        w.try_number === e.try_number &&
        w.ti.dag_id === e.ti.dag_id &&
        w.ti.run_id === e.ti.run_id &&
        w.ti.task_id === e.ti.task_id &&
        w.ti.map_index === e.ti.map_index
      )
        return entry;
    }
    return undefined;
  }

  private onLocalEvent(e: ExecutorEvent): void {
    const found = this.findRunning(e);
    if (found === undefined) {
      this.o.logger.warn(
        { task_id: e.ti.task_id, type: e.type },
        "an end of a try this worker does not know",
      );
      return;
    }
    const [key, r] = found;
    this.running.delete(key);
    this.finished++;
    this.lastEndAt = Date.now();
    if (e.type === "lost") {
      this.outbox.send(r.owner, this.lostResult(r.workload, key, `${e.reason} (on worker ${this.id})`));
    } else {
      if (e.next !== null) {
        this.running.set(tryKey(e.next), { workload: e.next, owner: r.owner });
        this.taken++;
      }
      this.outbox.send(r.owner, {
        type: "finished",
        key,
        worker: this.id,
        kind: e.kind,
        ti: e.ti,
        try_number: e.try_number,
        state: e.state,
        runner_ms: e.runner_ms,
        next: e.next,
      });
    }
    this.freeSlot();
    if (
      this.o.maxTasks > 0 &&
      this.taken >= this.o.maxTasks &&
      this.running.size === 0 &&
      this.state === "running"
    )
      void this.drain("recycling after worker.max_tasks tries");
  }

  private heartbeatBody(): WorkerHeartbeat {
    const running = [];
    for (const { workload: w } of this.running.values())
      if (w.kind === "task")
        running.push({
          dag_id: w.ti.dag_id,
          run_id: w.ti.run_id,
          task_id: w.ti.task_id,
          map_index: w.ti.map_index,
          try_number: w.try_number,
        });
    return {
      id: this.id,
      hostname: hostname(),
      pid: process.pid,
      queues: this.o.queues,
      concurrency: this.o.concurrency,
      capacity: Math.max(1, this.capacity()),
      state: this.state === "running" || this.state === "starting" ? "running" : "draining",
      running,
      tries_finished: this.finished,
      version: UPDRAFT_VERSION,
      server_url: this.o.serverUrl,
      started_at: this.startedAt,
    };
  }

  private async beat(stopped = false): Promise<void> {
    try {
      await writeHeartbeat(this.client, this.o.prefix, this.heartbeatBody(), stopped);
    } catch (err) {
      this.o.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        "worker heartbeat failed",
      );
    }
  }

  /**
   * Stops taking work, lets running tries finish (up to drainTimeoutMs), kills the runners of the
   * rest (their tries reported lost), writes the last heartbeat. Resolves when stopped.
   */
  drain(why: string): Promise<void> {
    this.drained ??= this.doDrain(why);
    return this.drained;
  }

  private async doDrain(why: string): Promise<void> {
    this.o.logger.info({ worker: this.id, why, running: this.running.size }, "worker draining");
    this.state = "draining";
    this.freeSlot();
    await this.beat();
    await Promise.all(this.bull.map((w) => w.close(true).catch(() => undefined)));
    await Promise.all(this.loops);
    await this.local.stop({ graceful: true, timeoutMs: this.o.drainTimeoutMs });
    clearInterval(this.heartbeat);
    this.state = "stopped";
    // The results and the last heartbeat reach Redis before the connection closes (quit waits).
    this.outbox.flush();
    await this.beat(true);
    await Promise.race([this.client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    this.client.disconnect();
    for (const w of this.stoppedWaiters.splice(0)) w();
  }

  /** Resolves once the worker stopped (drain, or recycling after max tasks). */
  stopped(): Promise<void> {
    if (this.state === "stopped") return Promise.resolve();
    return new Promise((resolve) => this.stoppedWaiters.push(resolve));
  }
}
