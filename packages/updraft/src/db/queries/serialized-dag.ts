import { sql } from "kysely";
import type { Executor } from "../executor.js";
import type { JsonValue } from "../schema.js";
import { toJson } from "../schema.js";
import type { AssetConditionJson } from "../../model/asset-condition.js";

/**
 * Writes a serialized DAG in one statement, skipping the write when the stored hash is the
 * same. Returns whether a row was written. The `dag` row must exist (see `saveDag`).
 */
export async function writeSerializedDag(
  db: Executor,
  input: { dagId: string; fileloc: string; data: JsonValue; dagHash: string },
): Promise<boolean> {
  const row = await db
    .insertInto("serialized_dag")
    .values({
      dag_id: input.dagId,
      fileloc: input.fileloc,
      data: toJson(input.data),
      dag_hash: input.dagHash,
    })
    .onConflict((oc) =>
      oc
        .column("dag_id")
        .doUpdateSet({
          data: (eb) => eb.ref("excluded.data"),
          dag_hash: (eb) => eb.ref("excluded.dag_hash"),
          fileloc: (eb) => eb.ref("excluded.fileloc"),
          last_updated: sql<Date>`now()`,
        })
        .where(
          sql<boolean>`serialized_dag.dag_hash is distinct from excluded.dag_hash or serialized_dag.fileloc is distinct from excluded.fileloc`,
        ),
    )
    .returning("dag_id")
    .executeTakeFirst();
  return row !== undefined;
}

/** The time schedule and the asset condition of a DAG scheduled on assets (serialized_dag.data). */
export interface AssetSchedule {
  schedule: string | number | null;
  condition: AssetConditionJson;
}

/**
 * The asset schedules of those of `dagIds` that have one, by DAG id: two fields of each
 * serialized DAG, so that a page of the DAG list can name the assets without loading whole DAGs.
 */
export async function getAssetSchedules(
  db: Executor,
  dagIds: readonly string[],
): Promise<Map<string, AssetSchedule>> {
  if (dagIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("serialized_dag")
    .select([
      "dag_id",
      sql<string | number | null>`data->'schedule'`.as("schedule"),
      sql<AssetConditionJson>`data->'asset_condition'`.as("condition"),
    ])
    .where("dag_id", "in", dagIds)
    .where(sql<boolean>`data ? 'asset_condition'`)
    .execute();
  return new Map(rows.map((r) => [r.dag_id, { schedule: r.schedule, condition: r.condition }]));
}
