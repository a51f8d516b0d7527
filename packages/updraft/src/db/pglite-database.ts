import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Kysely } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Database } from "./database.js";
import { checkChannel, notify } from "./notify.js";
import { trackOpenDatabase } from "./open-handles.js";
import { PGliteDialect } from "./pglite-dialect.js";
import { PGliteThread } from "./pglite-thread.js";
import type { Schema } from "./schema.js";

/** @internal A PGlite Database that can also dump its data directory. */
export interface PGliteDatabase extends Database {
  /** The data directory as an uncompressed tar, to start another one from (`loadDataDir`). */
  dumpDataDir(): Promise<Uint8Array>;
}

export interface OpenPGliteOptions {
  /** Directory of the database on disk (locked while open); unset for a memory database. */
  readonly dataDir?: string;
  /** A dump (`dumpDataDir`) to start a memory database from. It is moved to the worker: unusable after. */
  readonly loadDataDir?: Uint8Array;
}

/**
 * Opens an embedded PGlite database in a worker thread of its own (pglite-thread.ts), so that
 * PostgreSQL's work does not compete with the API server and the scheduler for this event loop.
 * @internal For `openDatabase` and `openMemoryDatabase`.
 */
export async function openPGlite(options: OpenPGliteOptions): Promise<PGliteDatabase> {
  const { dataDir } = options;
  const where = dataDir ?? "memory";
  let unlock = (): void => {};
  if (dataDir !== undefined) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let thread: PGliteThread;
  try {
    thread = await PGliteThread.start(
      dataDir !== undefined
        ? { dataDir: join(dataDir, "pgdata") }
        : options.loadDataDir !== undefined
          ? { loadDataDir: options.loadDataDir }
          : {},
      where,
    );
  } catch (err) {
    unlock();
    throw new UpdraftError(
      "DB_OPEN_FAILED",
      `Cannot open the embedded database in ${where}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const untrack = trackOpenDatabase("pglite", where);
  const dialect = new PGliteDialect(thread);
  const db = new Kysely<Schema>({ dialect });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    try {
      await db.destroy();
      await dialect.mutex.run(() => thread.close());
    } finally {
      unlock();
      untrack();
    }
  };
  return {
    db,
    dialect: "pglite",
    async listen(channel, cb) {
      checkChannel(channel);
      // Through the dialect's lock, so LISTEN never lands inside another caller's transaction.
      const stop = await dialect.mutex.run(() => thread.listen(channel, cb));
      return () => dialect.mutex.run(() => stop());
    },
    async notify(channel, payload) {
      checkChannel(channel);
      await notify(db, channel, payload);
    },
    dumpDataDir: () => dialect.mutex.run(() => thread.dumpDataDir()),
    close() {
      closing ??= close();
      return closing;
    },
  };
}
