import type { Migration } from "./migration.js";

/**
 * Why a task instance whose trigger rule is met is not scheduled yet (depends_on_past: Airflow's
 * PrevDagrunDep), as the scheduler last found it; null once its state changes. Shown by the REST
 * API on the task instance.
 */
export const migration0003: Migration = {
  version: 3,
  name: "wait-reason",
  statements: [`ALTER TABLE task_instance ADD COLUMN wait_reason text`],
};
