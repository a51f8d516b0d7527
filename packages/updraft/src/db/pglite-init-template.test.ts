// A fresh on-disk PGlite database starts from the dump of a fresh initdb kept in a cache folder:
// the first one leaves it, later ones load it (a marker table put in the dump shows it), and what
// they hold migrates and keeps its data across a restart. A damaged dump is replaced, never a
// failed open.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import type { Database } from "./database.js";
import { checkMigrations, migrate } from "./migrate.js";
import { MIGRATIONS } from "./migrations/index.js";
import { openDatabase } from "./open.js";
import type { PGliteDatabase } from "./pglite-database.js";
import { defaultInitTemplateDir } from "./pglite-init-template.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "updraft-initdb-template-"));
  dirs.push(dir);
  return dir;
}

const cache = tempDir();
const templateFile = (): string => {
  const [file] = readdirSync(cache).filter((f) => f.endsWith(".tar"));
  if (file === undefined) throw new Error(`no template in ${cache}`);
  return join(cache, file);
};

async function withDatabase<T>(dataDir: string, use: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase({ dataDir, initTemplateDir: cache });
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

const hasMarker = async (database: Database): Promise<boolean> =>
  (
    await sql<{
      n: number;
    }>`select count(*)::int as n from pg_tables where tablename = 'template_marker'`.execute(database.db)
  ).rows[0]?.n === 1;

/** Migrates a fresh directory, stores `value`, and reads it back after a restart. */
async function migrateStoreRestart(dataDir: string, value: string): Promise<unknown> {
  await withDatabase(dataDir, async (database) => {
    expect((await migrate(database)).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    await sql`insert into variable (key, val) values ('k', ${value})`.execute(database.db);
  });
  return withDatabase(dataDir, async (database) => {
    expect((await checkMigrations(database)).pending).toEqual([]);
    return (await sql<{ val: string }>`select val from variable where key = 'k'`.execute(database.db)).rows[0]
      ?.val;
  });
}

describe("the initdb template of fresh PGlite data directories", () => {
  it("the first fresh directory leaves the dump; later ones start from it, which stays as it is", async () => {
    // The first runs initdb and leaves its dump; a marker table then goes into the dump, so that
    // a directory started from it can be told from one made by initdb.
    const marked = await withDatabase(join(tempDir(), "db"), async (database) => {
      expect(statSync(templateFile()).size).toBeGreaterThan(1_000_000);
      expect(await hasMarker(database)).toBe(false);
      await sql`create table template_marker (x int)`.execute(database.db);
      return (database as PGliteDatabase).dumpDataDir();
    });
    writeFileSync(templateFile(), marked);
    const before = statSync(templateFile());

    const dataDir = join(tempDir(), "db");
    expect(await withDatabase(dataDir, hasMarker)).toBe(true);
    expect(await migrateStoreRestart(dataDir, "from the template")).toBe("from the template");
    const after = statSync(templateFile());
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
  }, 120_000);

  it("a damaged dump is replaced by the dump of an initdb, and the directory opens", async () => {
    writeFileSync(templateFile(), "not a tar");
    const dataDir = join(tempDir(), "db");
    expect(await withDatabase(dataDir, hasMarker)).toBe(false);
    expect(await migrateStoreRestart(dataDir, "after damage")).toBe("after damage");
    expect(statSync(templateFile()).size).toBeGreaterThan(1_000_000);
  }, 120_000);

  it("a cache that cannot be written is no error", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const database = await openDatabase({
      dataDir: join(tempDir(), "db"),
      initTemplateDir: join(file, "updraft"),
    });
    await database.close();
  }, 120_000);

  it("is kept in $XDG_CACHE_HOME/updraft, else ~/.cache/updraft", () => {
    expect(defaultInitTemplateDir({ XDG_CACHE_HOME: "/x/cache" })).toBe("/x/cache/updraft");
    expect(defaultInitTemplateDir({})).toMatch(/\/\.cache\/updraft$/);
  });
});
