// What the parts of a finish (services/finish-task-instance.ts) hand each other: the caller's
// options, the report with the DAG it is decided against, and the outcome of the statement.
import type { EngineEvent, EngineEvents } from "../events/engine-events.js";
import type { Metrics } from "../metrics/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import type {
  FinishRequest,
  FinishResponse,
  StartResponse,
  TaskWorkload,
  TokenClaims,
} from "../model/execution-api.js";
import type { Traces } from "../traces/index.js";
import type { XComRows } from "./finish-xcoms.js";
import type { WorkloadSigner } from "./workloads.js";

export interface FinishOptions {
  /** Told `ti_finished` (after the commit) when the scheduler has something to do. */
  events?: EngineEvents | null;
  /** Largest return value a finish may carry, in JSON bytes (core.xcom_max_size). Default 1 MiB. */
  xcomMaxSize?: number;
  /**
   * Signs the workload of a try handed to the runner; without it no try is handed over.
   * maxActiveTasksPerDag (core.max_active_tasks_per_dag) says whether it may cross runs (hand-over.ts).
   */
  handOver?: { signer: WorkloadSigner; heartbeatIntervalS: number; maxActiveTasksPerDag: number } | null;
  /** Where ti_successes, ti_failures, ti.finish, task.duration go (never awaited). */
  metrics?: Metrics;
  /** Where the ended try's span goes (OpenTelemetry, never awaited). */
  traces?: Traces;
}

export interface FinishResult extends FinishResponse {
  /** Downstream task instances skipped by a branch or short-circuit. */
  skipped: number;
  next: { workload: TaskWorkload; start: StartResponse } | null;
}

export type TiFinished = Extract<EngineEvent, { type: "ti_finished" }>;

export interface FinishInput {
  claims: TokenClaims;
  req: FinishRequest;
  plan: DagPlan | undefined;
  xcom: XComRows | null;
  skips: readonly string[];
  options: FinishOptions;
}

export type FinishOutcome =
  | { kind: "done"; result: FinishResult; wake: TiFinished | null; notified: boolean; tail: boolean }
  | { kind: "refused"; storedHash: string | null };
