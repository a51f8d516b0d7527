import type { TaskInstanceKey, TaskWorkload, Workload } from "../model/execution-api.js";

/**
 * What an executor reports. The runner reports states to the API server itself; these events tell
 * the scheduler that a try is over (wake up, free the slot) or that its runner died mid-try, in
 * which case the server never heard the end and the scheduler fails or retries the try.
 */
export type ExecutorEvent =
  | {
      type: "finished";
      kind: "task" | "callback";
      ti: TaskInstanceKey;
      try_number: number;
      /** The state the server recorded, as the runner reported it; null when the runner recorded none (start refused, try given away). */
      state: string | null;
      /** Milliseconds the runner spent from receiving the workload to the server's answer to finish. */
      runner_ms: number;
      /** The try the server handed to the same runner with the finish (it keeps the slot), or null. */
      next: TaskWorkload | null;
    }
  | {
      type: "lost";
      kind: "task" | "callback";
      ti: TaskInstanceKey;
      try_number: number;
      /** Why the runner died: exit code or signal, out of memory, killed after its timeout. */
      reason: string;
      /**
       * Set when the try may never have started (its remote worker died holding it, before or
       * after its runner's start): the scheduler hands it back to the queue without using up a try
       * if the server never saw its start (still queued), and settles it as lost otherwise.
       */
      maybeNotStarted?: boolean;
    };

export type ExecutorListener = (event: ExecutorEvent) => void;

export interface StopOptions {
  /** Wait for running tries (up to `timeoutMs`) before terminating runners. Default true. */
  graceful?: boolean;
  /** How long a graceful stop waits before SIGTERM, and SIGTERM before SIGKILL. */
  timeoutMs?: number;
}

export interface StopResult {
  /** Workloads queued but never handed to a runner: the scheduler may queue them again. */
  notStarted: Workload[];
}

/**
 * Runs workloads somewhere: local processes, Kubernetes Pods, remote workers. Executors never
 * import user code and never touch the database; they start runners and report what happened to
 * them.
 */
export interface Executor {
  readonly name: string;
  /** Starts the executor (e.g. warm processes); resolves when it can take work. */
  start(): Promise<void>;
  /** Queues a workload; returns at once. Order: priority_weight descending, then FIFO. */
  queueWorkload(workload: Workload): void;
  /** How many more workloads it takes now (at most parallelism minus queued and running). */
  openSlots(): number;
  /**
   * The scheduler had `waiting` more workloads ready than open slots: an executor that sizes a pool
   * (warm processes) may grow it. Optional.
   */
  demand?(waiting: number): void;
  /** Workloads waiting for a runner and tries running, for executor.queued_tasks / running_tasks. Optional. */
  stats?(): { queued: number; busy: number };
  /** Subscribes to events; returns the function that unsubscribes. */
  onEvent(listener: ExecutorListener): () => void;
  /**
   * For executors whose runners outlive the scheduler process (Kubernetes Pods). The scheduler
   * calls it with its job id once it has one, before it queues anything, and again at each
   * periodic adoption: the executor stamps `owner` on what it launches from then on, and takes
   * over the runners of owners that `gone` confirms are gone (their scheduler's job ended or went
   * stale), reporting their ends as its own. Resolves with how many runners it took over. Optional.
   */
  adopt?(owner: string, gone: (owners: string[]) => Promise<string[]>): Promise<number>;
  stop(options?: StopOptions): Promise<StopResult>;
}

/** A pino-compatible logger. */
export interface ExecutorLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Warnings and errors to stderr; the default when no logger is given. */
export const stderrLogger: ExecutorLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => process.stderr.write(`WARN ${msg} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`ERROR ${msg} ${JSON.stringify(obj)}\n`),
};
