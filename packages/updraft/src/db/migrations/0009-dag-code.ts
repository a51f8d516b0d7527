import type { Migration } from "./migration.js";

/**
 * The source of each DAG file, as the DAG processor read it when it parsed the file (Airflow's
 * dag_code), so that the API serves a DAG's code from the database and never reads a file by a
 * path a client sent. Keyed by fileloc; `source_hash` (sha256 hex) lets a sync skip an unchanged
 * file.
 */
export const migration0009: Migration = {
  version: 9,
  name: "dag-code",
  statements: [
    `CREATE TABLE dag_code (
      fileloc text PRIMARY KEY,
      source_code text NOT NULL,
      source_hash text NOT NULL,
      last_updated timestamptz NOT NULL DEFAULT now()
    )`,
  ],
};
