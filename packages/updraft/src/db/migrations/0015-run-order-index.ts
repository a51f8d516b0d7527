import type { Migration } from "./migration.js";

/**
 * A DAG's runs latest first (`order_by=-execution_date`, the UI's and Airflow clients' default
 * view) read 25 rows from an index instead of scanning and sorting every run of the DAG. The
 * unique index on (dag_id, logical_date) cannot serve it: it is partial (logical_date not null),
 * and the list breaks ties on id.
 */
export const migration0015: Migration = {
  version: 15,
  name: "run-order-index",
  statements: [`CREATE INDEX dag_run_dag_logical_date_idx ON dag_run (dag_id, logical_date, id)`],
};
