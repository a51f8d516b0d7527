// Deadline alerts, as Airflow 3.1's `DeadlineAlert` on a DAG: a run not finished by
// `reference + interval` calls `callback` once, in a task runner (never in the scheduler), while
// the run still goes. The scheduler's deadline timer (scheduler/deadlines.ts) finds the miss.
import type { Duration } from "../common/duration.js";

/**
 * What a deadline is measured from: the run's logical date (Airflow's
 * `DeadlineReference.DAGRUN_LOGICAL_DATE`), when the run was queued (`DAGRUN_QUEUED_AT`), or a
 * fixed date (`FIXED_DATETIME`).
 */
export type DeadlineReference = "logicalDate" | "queuedAt" | Date;

/** What a deadline callback receives: the late run and the deadline it missed (Airflow's callback context). */
export interface DeadlineMiss {
  dag_run: {
    dag_id: string;
    run_id: string;
    /** ISO 8601, or null for a run without one. */
    logical_date: string | null;
  };
  deadline: {
    /** Position of the alert in the DAG's `deadline` list. */
    alert_index: number;
    /** Airflow's reference name: `DagRunLogicalDateDeadline`, `DagRunQueuedAtDeadline` or `FixedDatetimeDeadline`. */
    reference_type: string;
    /** When the run should have been done (ISO 8601). */
    deadline_time: string;
  };
}

/**
 * A deadline on each run of a DAG.
 *
 * @example
 * ```ts
 * dag({
 *   dagId: "daily_sales",
 *   schedule: "@daily",
 *   deadline: {
 *     reference: "queuedAt",
 *     interval: "2h",
 *     callback: slackWebhookDeadlineNotifier, // any (miss) => void | Promise<void>
 *   },
 * }, () => { ... });
 * ```
 */
export interface DeadlineAlert {
  reference: DeadlineReference;
  /** Added to the reference: milliseconds or a string like `"30m"`. May be negative for a fixed date. */
  interval: Duration;
  /** Runs once per run that misses the deadline, in a task runner. */
  callback: (miss: DeadlineMiss) => void | Promise<void>;
}

/** Airflow's serialized reference names for the references Updraft has. */
export function deadlineReferenceType(reference: DeadlineReference): string {
  if (reference === "logicalDate") return "DagRunLogicalDateDeadline";
  if (reference === "queuedAt") return "DagRunQueuedAtDeadline";
  return "FixedDatetimeDeadline";
}
