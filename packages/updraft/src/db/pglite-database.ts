import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Kysely } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { lockDataDir } from "./data-dir-lock.js";
import type { Database } from "./database.js";
import { checkChannel, notify } from "./notify.js";
import { trackOpenDatabase } from "./open-handles.js";
import { PGliteDialect } from "./pglite-dialect.js";
import {
  isFreshDataDir,
  readInitTemplate,
  removeInitTemplate,
  writeInitTemplate,
} from "./pglite-init-template.js";
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
  /**
   * With `dataDir`: a folder for the dump of a fresh initdb (pglite-init-template.ts). A `dataDir`
   * without a database starts from it, or, when there is none yet, leaves one there.
   */
  readonly initTemplateDir?: string;
}

/** Opens `pgdata`; a fresh one from the initdb template when there is one, else it makes it. */
async function startOnDisk(pgdata: string, templateDir: string | undefined, where: string) {
  if (templateDir === undefined || !isFreshDataDir(pgdata))
    return PGliteThread.start({ dataDir: pgdata }, where);
  const template = readInitTemplate(templateDir);
  if (template !== undefined) {
    try {
      return await PGliteThread.start({ dataDir: pgdata, loadDataDir: template }, where);
    } catch {
      // A damaged dump (a disk that filled up): drop it and what it left, and run initdb below.
      removeInitTemplate(templateDir);
      rmSync(pgdata, { recursive: true, force: true });
    }
  }
  const thread = await PGliteThread.start({ dataDir: pgdata }, where);
  try {
    writeInitTemplate(templateDir, await thread.dumpDataDir());
  } catch (err) {
    await thread.close();
    throw err;
  }
  return thread;
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
    thread =
      dataDir !== undefined
        ? await startOnDisk(join(dataDir, "pgdata"), options.initTemplateDir, where)
        : await PGliteThread.start(
            options.loadDataDir !== undefined ? { loadDataDir: options.loadDataDir } : {},
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
