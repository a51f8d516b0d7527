import type { TaskInstanceState } from "./states.js";

// The order in which one state stands for many: a mapped task's instances, or a task group's, are
// shown as the first state of this list that any of them has (Airflow's grid does the same:
// a failure shows before a success, work in progress before work done).
const PRIORITY: readonly (TaskInstanceState | null)[] = [
  "failed",
  "upstream_failed",
  "up_for_retry",
  "up_for_reschedule",
  "queued",
  "scheduled",
  "deferred",
  "running",
  "restarting",
  null,
  "success",
  "skipped",
  "removed",
];

/**
 * The one state that stands for several task instances, given how many are in each state
 * (`"none"` counts instances with no state yet). No instance at all is `null`.
 *
 * @example
 * ```ts
 * summaryState({ success: 9, failed: 1 }); // "failed"
 * ```
 */
export function summaryState(counts: Readonly<Record<string, number>>): TaskInstanceState | null {
  for (const state of PRIORITY) if ((counts[state ?? "none"] ?? 0) > 0) return state;
  return null;
}
