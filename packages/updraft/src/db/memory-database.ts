import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "./database.js";
import { migrate } from "./migrate.js";
import { MIGRATIONS } from "./migrations/index.js";
import { openPGlite, type PGliteDatabase } from "./pglite-database.js";
import { defaultInitTemplateDir, readInitTemplate } from "./pglite-init-template.js";

/** A fresh memory database, from the user's initdb dump when there is one (decision 0037). */
async function openFromInitTemplate(): Promise<PGliteDatabase> {
  const init = readInitTemplate(defaultInitTemplateDir());
  if (init !== undefined) {
    try {
      return await openPGlite({ loadDataDir: init });
    } catch {
      // A damaged dump: the next fresh data directory replaces it; initdb here.
    }
  }
  return openPGlite({});
}

/**
 * A migrated in-memory PGlite database, fast: creating one from scratch runs initdb (7–15 s on
 * two cores; less from the user's initdb dump, pglite-init-template.ts), so the first one is
 * dumped to `cacheDir` and later ones load that dump (~1 s).
 * The dump is keyed by the PGlite version and the migrations, so an upgrade makes a new one.
 */
export async function openMemoryDatabase(cacheDir: string): Promise<Database> {
  const key = createHash("sha256")
    .update(JSON.stringify(MIGRATIONS))
    .update(readFileSync(new URL("../package.json", import.meta.resolve("@electric-sql/pglite"))))
    .digest("hex")
    .slice(0, 16);
  const file = join(cacheDir, `pglite-template-${key}.tar`);
  let template: Buffer | undefined;
  try {
    template = readFileSync(file);
  } catch {
    // No template yet: make one below.
  }
  if (template !== undefined) return openPGlite({ loadDataDir: template });
  const database = await openFromInitTemplate();
  try {
    await migrate(database);
    const dump = await database.dumpDataDir();
    mkdirSync(cacheDir, { recursive: true });
    // Written under a unique name, then renamed: concurrent first runs never see half a file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(partial, dump);
    renameSync(partial, file);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
