import type { Migration } from "./migration.js";

/**
 * SLA misses, as Airflow's sla_miss table: one row per run and task that was not done by its
 * deadline. The primary key is what makes a miss reported once with several schedulers: each
 * inserts with ON CONFLICT DO NOTHING and only the one whose insert returns a row reports it.
 */
export const migration0011: Migration = {
  version: 11,
  name: "sla-miss",
  statements: [
    `CREATE TABLE sla_miss (
      dag_id text NOT NULL,
      run_id text NOT NULL,
      task_id text NOT NULL,
      logical_date timestamptz,
      deadline timestamptz NOT NULL,
      timestamp timestamptz NOT NULL DEFAULT now(),
      description text,
      PRIMARY KEY (dag_id, run_id, task_id)
    )`,
    `CREATE INDEX sla_miss_timestamp ON sla_miss (timestamp)`,
  ],
};
