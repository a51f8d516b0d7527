import type { Executor } from "../executor.js";
import { inTransaction } from "../executor.js";
import type { ImportErrorRow } from "../schema.js";

export interface ImportErrorInput {
  stacktrace: string;
  line?: number | null;
}

/**
 * Replaces the import errors of one DAG file (an empty list clears them) and sets
 * `dag.has_import_errors` for the DAGs of that file, in one transaction.
 */
export async function setImportErrors(
  db: Executor,
  filename: string,
  errors: readonly ImportErrorInput[],
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom("import_error").where("filename", "=", filename).execute();
    if (errors.length > 0) {
      await trx
        .insertInto("import_error")
        .values(errors.map((e) => ({ filename, stacktrace: e.stacktrace, line: e.line ?? null })))
        .execute();
    }
    await trx
      .updateTable("dag")
      .set({ has_import_errors: errors.length > 0 })
      .where("fileloc", "=", filename)
      .execute();
  });
}

export async function listImportErrors(
  db: Executor,
  options: { filename?: string; limit?: number; offset?: number } = {},
): Promise<ImportErrorRow[]> {
  let q = db.selectFrom("import_error").selectAll().orderBy("filename").orderBy("id");
  if (options.filename !== undefined) q = q.where("filename", "=", options.filename);
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset !== undefined) q = q.offset(options.offset);
  return q.execute();
}
