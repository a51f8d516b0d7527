import type { Migration } from "./migration.js";

/**
 * Assets and data-aware scheduling (decision 0031), Airflow's tables under Airflow 3's names.
 * - `asset`: one row per URI any DAG names (name, group, extra as the last parsed DAG file said).
 * - `asset_event`: one row per update: a task's success with the asset in its outlets, or a POST.
 * - `dag_schedule_asset_reference` / `task_outlet_asset_reference`: who consumes and who produces
 *   an asset, rewritten by the DAG processor when a DAG changes.
 * - `asset_dag_run_queue`: the updates a consumer DAG received since its last asset-triggered run;
 *   one row per (asset, consumer), the scheduler consumes them when the DAG's condition holds.
 * - `dag_run_asset_event`: the events that triggered a run (its triggering_asset_events).
 */
export const migration0014: Migration = {
  version: 14,
  name: "assets",
  statements: [
    `CREATE TABLE asset (
      id serial PRIMARY KEY,
      uri text NOT NULL UNIQUE,
      name text NOT NULL,
      "group" text NOT NULL DEFAULT 'asset',
      extra jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE asset_event (
      id serial PRIMARY KEY,
      asset_id integer NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
      timestamp timestamptz NOT NULL DEFAULT now(),
      source_dag_id text,
      source_run_id text,
      source_task_id text,
      source_map_index integer NOT NULL DEFAULT -1,
      extra jsonb NOT NULL DEFAULT '{}'
    )`,
    `CREATE INDEX asset_event_asset_timestamp_idx ON asset_event (asset_id, timestamp)`,
    `CREATE INDEX asset_event_timestamp_idx ON asset_event (timestamp)`,
    `CREATE TABLE dag_schedule_asset_reference (
      asset_id integer NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
      dag_id text NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (asset_id, dag_id)
    )`,
    `CREATE INDEX dag_schedule_asset_reference_dag_idx ON dag_schedule_asset_reference (dag_id)`,
    `CREATE TABLE task_outlet_asset_reference (
      asset_id integer NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
      dag_id text NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
      task_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (asset_id, dag_id, task_id)
    )`,
    `CREATE INDEX task_outlet_asset_reference_dag_idx ON task_outlet_asset_reference (dag_id)`,
    `CREATE TABLE asset_dag_run_queue (
      asset_id integer NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
      target_dag_id text NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (asset_id, target_dag_id)
    )`,
    `CREATE INDEX asset_dag_run_queue_target_idx ON asset_dag_run_queue (target_dag_id)`,
    `CREATE TABLE dag_run_asset_event (
      dag_run_id integer NOT NULL REFERENCES dag_run (id) ON DELETE CASCADE,
      event_id integer NOT NULL REFERENCES asset_event (id) ON DELETE CASCADE,
      PRIMARY KEY (dag_run_id, event_id)
    )`,
    `CREATE INDEX dag_run_asset_event_event_idx ON dag_run_asset_event (event_id)`,
  ],
};
