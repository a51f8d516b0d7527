import type { Migration } from "./migration.js";

/**
 * Missed deadline alerts (Airflow 3.1's `deadline` table): one row per run and alert of the DAG's
 * `deadline` list that the run did not finish by. Airflow writes a row when the run is created and
 * flips `missed`; Updraft computes the pending deadlines from the serialized DAG and the run, and
 * writes the row when the miss is recorded, so the primary key makes each miss reported once with
 * several schedulers (ON CONFLICT DO NOTHING, as sla_miss).
 */
export const migration0012: Migration = {
  version: 12,
  name: "deadline",
  statements: [
    `CREATE TABLE deadline (
      dag_id text NOT NULL,
      run_id text NOT NULL,
      alert_index integer NOT NULL,
      reference_type text NOT NULL,
      deadline_time timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (dag_id, run_id, alert_index)
    )`,
    `CREATE INDEX deadline_created_at ON deadline (created_at)`,
  ],
};
