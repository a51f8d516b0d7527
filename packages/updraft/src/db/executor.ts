import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

/** What query functions take: the database or a transaction (a `Transaction` is a `Kysely`). */
export type Executor = Kysely<Schema>;

/** Runs `fn` in a transaction: the caller's, when `db` already is one, else a new one. */
export async function inTransaction<T>(db: Executor, fn: (trx: Executor) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}
