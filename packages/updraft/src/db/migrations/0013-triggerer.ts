import type { Migration } from "./migration.js";

/**
 * Reschedule and deferral (decision 0030).
 * - `task_reschedule` (Airflow's table): one row per poke of a sensor in mode "reschedule" that was
 *   not done; the first row of a try keeps the start of its first poke, from which the sensor's
 *   timeout counts across reschedules.
 * - `trigger.triggerer_id` exists since 0001; an index finds the triggers of a triggerer (a
 *   triggerer's own set, and the ones of a dead triggerer to take over).
 * - `task_instance.next_method` / `next_kwargs` / `trigger_id` / `trigger_timeout` exist since 0001.
 *   An index finds deferred instances whose trigger timed out without scanning the table.
 */
export const migration0013: Migration = {
  version: 13,
  name: "triggerer",
  statements: [
    `CREATE TABLE task_reschedule (
      id serial PRIMARY KEY,
      dag_id text NOT NULL,
      run_id text NOT NULL,
      task_id text NOT NULL,
      map_index integer NOT NULL DEFAULT -1,
      try_number integer NOT NULL,
      start_date timestamptz NOT NULL,
      end_date timestamptz NOT NULL,
      duration double precision NOT NULL,
      reschedule_date timestamptz NOT NULL,
      FOREIGN KEY (dag_id, run_id, task_id, map_index)
        REFERENCES task_instance (dag_id, run_id, task_id, map_index) ON DELETE CASCADE ON UPDATE CASCADE
    )`,
    `CREATE INDEX task_reschedule_ti_idx ON task_reschedule (dag_id, run_id, task_id, map_index, try_number)`,
    `CREATE INDEX trigger_triggerer_idx ON trigger (triggerer_id)`,
    `CREATE INDEX ti_trigger_timeout_idx ON task_instance (trigger_timeout) WHERE state = 'deferred'`,
    `CREATE INDEX ti_reschedule_due_idx ON task_instance (next_retry_at) WHERE state = 'up_for_reschedule'`,
  ],
};
