// The source of DAG files (table dag_code, migration 0009), written by the DAG processor's sync
// and read by GET /api/v1/dagSources/{file_token}.
import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { Executor } from "../executor.js";

/** sha256 (hex) of a source text, as stored in source_hash. */
export function sourceHash(source: string): string {
  return createHash("sha256").update(source, "utf8").digest("hex");
}

/** Stores a file's source; leaves the row (and its last_updated) alone when the source is unchanged. */
export async function setDagCode(db: Executor, fileloc: string, source: string): Promise<void> {
  const hash = sourceHash(source);
  await db
    .insertInto("dag_code")
    .values({ fileloc, source_code: source, source_hash: hash })
    .onConflict((oc) =>
      oc
        .column("fileloc")
        .doUpdateSet({ source_code: source, source_hash: hash, last_updated: sql<Date>`now()` })
        .where("dag_code.source_hash", "<>", hash),
    )
    .execute();
}

export async function deleteDagCode(db: Executor, fileloc: string): Promise<void> {
  await db.deleteFrom("dag_code").where("fileloc", "=", fileloc).execute();
}

export async function getDagCode(
  db: Executor,
  fileloc: string,
): Promise<{ source_code: string; source_hash: string; last_updated: Date } | undefined> {
  return db
    .selectFrom("dag_code")
    .select(["source_code", "source_hash", "last_updated"])
    .where("fileloc", "=", fileloc)
    .executeTakeFirst();
}
