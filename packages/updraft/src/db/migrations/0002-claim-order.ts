import type { Migration } from "./migration.js";

const UNFINISHED = `'scheduled','queued','running','restarting','up_for_retry','up_for_reschedule','deferred'`;

/**
 * The engine's hot path (docs/decisions/0011-hot-path.md): the scheduled backlog is read through an
 * index in claim order (priority, the run's logical date, when it was scheduled, map index) instead
 * of being sorted whole on every pass, so the run's logical date is kept on its task instances;
 * "is anything of this run unfinished?" is one index probe; the scheduler that queued a try is a
 * column (Airflow's queued_by_job_id) instead of a prefix in external_executor_id.
 */
export const migration0002: Migration = {
  version: 2,
  name: "claim-order",
  statements: [
    `ALTER TABLE task_instance ADD COLUMN run_logical_date timestamptz`,
    `ALTER TABLE task_instance ADD COLUMN queued_by_job_id integer`,
    `UPDATE task_instance t SET run_logical_date = r.logical_date
      FROM dag_run r WHERE r.dag_id = t.dag_id AND r.run_id = t.run_id`,
    `UPDATE task_instance SET queued_by_job_id = substring(external_executor_id from 15)::int,
      external_executor_id = NULL
      WHERE external_executor_id ~ '^scheduler_job:[0-9]+$'`,
    `CREATE INDEX ti_scheduled_claim_idx ON task_instance
      (priority_weight DESC, run_logical_date, scheduled_dttm, map_index) WHERE state = 'scheduled'`,
    // The whole key, so that a lookup of one unfinished instance (ending a running try) finds it
    // directly through this index too, whatever the planner's statistics make it prefer.
    `CREATE INDEX ti_unfinished_idx ON task_instance (dag_id, run_id, task_id, map_index)
      WHERE state IS NULL OR state IN (${UNFINISHED})`,
  ],
};
