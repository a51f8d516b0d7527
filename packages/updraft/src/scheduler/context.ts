// What every part of the scheduler works with: the database, the configuration, the executor,
// and the test hooks. Parts are plain functions taking this context, so tests can call them
// one by one (and two "schedulers" are two contexts).
import type { UpdraftConfig } from "../config/index.js";
import type { Database, Executor as Db } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { Executor } from "../executors/executor.js";
import type { ExecutorSet } from "../executors/executor-set.js";
import type { Metrics } from "../metrics/index.js";
import type { Traces } from "../traces/index.js";
import type { TaskInstanceKey } from "../model/execution-api.js";
import type { WorkloadSigner } from "../services/index.js";

/** A pino-compatible logger. */
export interface SchedulerLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const quietLogger: SchedulerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`WARN scheduler: ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`ERROR scheduler: ${msg} ${JSON.stringify(obj)}\n`),
};

/** Local time, for loop timing and token expiry only; time other processes compare is the database's now(). */
export interface SchedulerClock {
  now(): number;
}

type Hook<T> = ((info: T) => void | Promise<void>) | undefined;

/**
 * Points where a test may pause one scheduler between two steps to force an interleaving
 * (RELIABILITY.md item 6). Each is awaited inside the transaction it names.
 */
export interface SchedulerHooks {
  /** DAG rows due for a run were claimed (FOR UPDATE SKIP LOCKED), before runs are created. */
  afterDagClaim?: Hook<{ dagIds: string[] }>;
  /** Runs were locked and their task instances read, before decisions are written. */
  afterRunsRead?: Hook<{ runs: { dagId: string; runId: string }[] }>;
  /** Pool rows are locked and scheduled task instances claimed, before they are set queued. */
  afterClaim?: Hook<{ tis: TaskInstanceKey[] }>;
  /** Task instances are set queued, before the transaction commits. */
  beforeQueueCommit?: Hook<{ tis: (TaskInstanceKey & { try_number: number })[] }>;
  /** Lost task instances were found, before the guarded update that reaps them. */
  beforeReap?: Hook<{ tis: (TaskInstanceKey & { try_number: number })[] }>;
}

export interface SchedulerContext {
  readonly database: Database;
  readonly db: Db;
  readonly config: UpdraftConfig;
  /** The default executor (the first of core.executor): callbacks go here. */
  readonly executor: Executor;
  /** Every executor this scheduler runs, the default first; slots are kept per executor. */
  readonly executors: ExecutorSet;
  readonly events: EngineEvents | null;
  readonly logger: SchedulerLogger;
  readonly hooks: SchedulerHooks;
  readonly clock: SchedulerClock;
  /** Airflow's scheduler metrics go here (a no-op when metrics are off); emission is never awaited. */
  readonly metrics: Metrics;
  /** Ended runs and reaped tries become OpenTelemetry spans here (a no-op when traces are off). */
  readonly traces: Traces;
  /** Signs the workloads this scheduler queues (secret key, execution API URL, log folder). */
  readonly signer: WorkloadSigner;
  /** This scheduler's job id once started (recorded on the task instances it queues). */
  jobId: number | null;
}

export const runKey = (dagId: string, runId: string): string => `${dagId}\0${runId}`;
