/**
 * Task instance and DAG run states, exactly as Airflow names them, so that users, the API and
 * the UI speak one vocabulary. A task instance with no state yet has `null` (Airflow's "none").
 */
export const TaskInstanceState = {
  REMOVED: "removed",
  SCHEDULED: "scheduled",
  QUEUED: "queued",
  RUNNING: "running",
  SUCCESS: "success",
  RESTARTING: "restarting",
  FAILED: "failed",
  UP_FOR_RETRY: "up_for_retry",
  UP_FOR_RESCHEDULE: "up_for_reschedule",
  UPSTREAM_FAILED: "upstream_failed",
  SKIPPED: "skipped",
  DEFERRED: "deferred",
} as const;
export type TaskInstanceState = (typeof TaskInstanceState)[keyof typeof TaskInstanceState];
export const TASK_INSTANCE_STATES = Object.values(TaskInstanceState);

/** States after which a task instance never changes on its own (a clear starts it over). */
export const FINISHED_TI_STATES: readonly TaskInstanceState[] = [
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "removed",
];

/** States in which a runner may be working on the task instance. */
export const UNFINISHED_TI_STATES: readonly (TaskInstanceState | null)[] = [
  null,
  "scheduled",
  "queued",
  "running",
  "restarting",
  "up_for_retry",
  "up_for_reschedule",
  "deferred",
];

export const DagRunState = {
  QUEUED: "queued",
  RUNNING: "running",
  SUCCESS: "success",
  FAILED: "failed",
} as const;
export type DagRunState = (typeof DagRunState)[keyof typeof DagRunState];
export const DAG_RUN_STATES = Object.values(DagRunState);

/** How a DAG run came to be, as Airflow's `run_type` (also the prefix of generated run ids). */
export const DagRunType = {
  SCHEDULED: "scheduled",
  MANUAL: "manual",
  BACKFILL: "backfill",
  ASSET_TRIGGERED: "asset_triggered",
} as const;
export type DagRunType = (typeof DagRunType)[keyof typeof DagRunType];
