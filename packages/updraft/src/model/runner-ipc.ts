// Messages between an executor and a runner process over the IPC channel of `child_process.fork`.
// In the model so that both sides share one definition (the executor never imports runner code).
import type { TaskInstanceKey, TaskWorkload, Workload } from "./execution-api.js";

export type ToRunner =
  | { type: "run"; workload: Workload }
  /**
   * Whether the runner may take its next try from the server with a finish (the executor allows it
   * while no workload waits for a process: a handed-over try must not overtake queued ones).
   */
  | { type: "hand_over"; allowed: boolean };

export type FromRunner =
  /** The process has loaded its modules and takes work. */
  | { type: "ready"; pid: number }
  /** A workload is over. `state` is what the server recorded, null when nothing was recorded. */
  | {
      type: "done";
      kind: "task" | "callback";
      ti: TaskInstanceKey;
      try_number: number;
      state: string | null;
      /** The process exits after this message (task limit reached, or it may be dirty). */
      retiring: boolean;
      /** Milliseconds from receiving the workload to the server's answer to finish. */
      total_ms: number;
      /** CPU time (user + system) the process used for the workload, in ms. */
      cpu_ms: number;
      /** Wall and CPU time of the task body itself (execute), in ms; null when it did not run. */
      exec_ms: number | null;
      exec_cpu_ms: number | null;
      /** The try the server handed over with the finish: the process runs it now (it is busy). */
      next: TaskWorkload | null;
    };
