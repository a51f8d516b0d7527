import type { Migration } from "./migration.js";

/**
 * XCom values keep their text as the task wrote it: `json` instead of `jsonb`, which reorders an
 * object's keys (by length, then bytes) and drops duplicate ones. Airflow's JSON serialization keeps
 * the order, and tasks that print or compare a value see the order they built. Values stored
 * before this migration were already reordered by jsonb; they stay as they are.
 */
export const migration0005: Migration = {
  version: 5,
  name: "xcom-json",
  statements: [`ALTER TABLE xcom ALTER COLUMN value TYPE json USING value::json`],
};
