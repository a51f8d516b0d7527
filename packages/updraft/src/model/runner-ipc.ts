// Messages between an executor and a runner process over the IPC channel of `child_process.fork`.
// In the model so that both sides share one definition (the executor never imports runner code).
import type { TaskInstanceKey, Workload } from "./execution-api.js";

export type ToRunner = { type: "run"; workload: Workload };

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
    };
