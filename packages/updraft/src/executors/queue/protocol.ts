// What the QueueExecutor and its workers say to each other through Redis. A job on the BullMQ
// queue named by the task's `queue` carries the workload (with its try-scoped token, nothing else
// secret) and the owner: the executor that queued it. Workers answer on the owner's results
// stream (XADD); the owner reads it (XREAD). A stream and not BullMQ's events because a try the
// API server handed to a worker's runner with a finish (decision 0011) has no job of its own.
import { createHash } from "node:crypto";
import type { TaskInstanceKey, Workload } from "../../model/execution-api.js";

/** The data of one BullMQ job. */
export interface QueueJobData {
  workload: Workload;
  /** The owner id of the QueueExecutor whose results stream hears about this try. */
  owner: string;
}

/**
 * A result on an owner's results stream. An entry's one `m` field holds a JSON array of them, in
 * the order they happened (a worker writes what gathered since its last write as one entry); a
 * single object is read as an array of one.
 */
export type QueueResult =
  | { type: "taken"; key: string; worker: string }
  | {
      type: "finished";
      key: string;
      worker: string;
      kind: Workload["kind"];
      ti: TaskInstanceKey;
      try_number: number;
      state: string | null;
      runner_ms: number;
      /** The try the server handed to the same runner, which now runs on `worker` for this owner. */
      next: Workload | null;
    }
  | {
      type: "lost";
      key: string;
      worker: string;
      kind: Workload["kind"];
      ti: TaskInstanceKey;
      try_number: number;
      reason: string;
    };

/** One try (or callback) of one task instance: the executor's and the workers' key for it. */
export function tryKey(w: Pick<Workload, "kind" | "ti" | "try_number"> & { callback?: string }): string {
  const { dag_id, run_id, task_id, map_index } = w.ti;
  const what = w.kind === "callback" ? `callback:${w.callback ?? ""}` : "task";
  return JSON.stringify([what, dag_id, run_id, task_id, map_index, w.try_number]);
}

/**
 * The BullMQ job id of a workload: the same try queued twice is one job. A hash, because run ids
 * hold `:` (BullMQ refuses it in ids) and ids become Redis keys.
 */
export function jobIdOf(w: Workload): string {
  return `t-${createHash("sha256").update(tryKey(w)).digest("hex").slice(0, 40)}`;
}

/** BullMQ priorities run 1 (first) to 2 097 152 (last); a higher priority_weight runs first. */
export const MAX_BULL_PRIORITY = 2_097_152;
export function bullPriority(w: Workload): number {
  const weight = w.kind === "task" ? w.priority_weight : 1_000_000;
  // 1 000 000 is the middle: weights above it (and callbacks) all run first, below it all last.
  return Math.min(MAX_BULL_PRIORITY, Math.max(1, Math.round(1_000_000 - weight)));
}

/** The key of an owner's results stream (`~` cannot appear in a queue name: no collision). */
export function resultsKey(prefix: string, owner: string): string {
  return `${prefix}:~results:${owner}`;
}

/**
 * How long Redis remembers that a try lost with its worker went back to the queue (decision 0025
 * §4a): longer than any wait of a queued try for a worker (task_queued_timeout, 600 s by default)
 * plus a worker's death going unnoticed (worker.stale_after), by far.
 */
export const HANDED_BACK_TTL_S = 24 * 3600;

/** The key saying a try was handed back once (`~` keeps it apart from BullMQ's keys). */
export function handedBackKey(prefix: string, w: Workload): string {
  return `${prefix}:~handed-back:${jobIdOf(w)}`;
}

/** Results streams keep about this many entries (a reader gone that long lost nothing it needs). */
export const RESULTS_MAXLEN = 10_000;

/** The queue a workload goes to: the task's `queue`, `default` for callbacks. */
export function queueOf(w: Workload): string {
  return w.kind === "task" && w.queue.trim() !== "" ? w.queue : "default";
}
