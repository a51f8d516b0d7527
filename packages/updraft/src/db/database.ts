import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

export type DialectName = "postgres" | "pglite";

/** An open metadata database. Close it once; every component shares one per process. */
export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /** Calls `cb` with each NOTIFY payload on `channel`; resolves to the function that stops it. */
  listen(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>>;
  /** Sends NOTIFY on `channel` (outside any transaction; use `notify(trx, …)` inside one). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
