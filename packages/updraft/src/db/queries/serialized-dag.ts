import { sql } from "kysely";
import type { Executor } from "../executor.js";
import type { JsonValue } from "../schema.js";
import { toJson } from "../schema.js";

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
