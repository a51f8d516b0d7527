import type { Migration } from "./migration.js";

/**
 * A note on a run and on a task instance (Airflow's dag_run_note / task_instance_note): free text a
 * user writes in the UI or through the API ("re-ran after the upstream fix"). A column, not a side
 * table: a note is read with its row in every list, and one join less per list matters at 10,000 runs.
 */
export const migration0008: Migration = {
  version: 8,
  name: "notes",
  statements: [`ALTER TABLE dag_run ADD COLUMN note text`, `ALTER TABLE task_instance ADD COLUMN note text`],
};
