import type { Migration } from "./migration.js";

/**
 * `task_instance.rendered_map_index`: the name a mapped instance's runner rendered from the task's
 * mapIndexTemplate (Airflow's column of the same name, String(250)). task_instance_history does
 * not mirror task_instance here (it keeps the try's outcome only, no rendered fields), so it has
 * no copy.
 */
export const migration0004: Migration = {
  version: 4,
  name: "rendered-map-index",
  statements: [`ALTER TABLE task_instance ADD COLUMN rendered_map_index varchar(250)`],
};
