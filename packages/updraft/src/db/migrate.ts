import { sql, type Kysely, type Transaction } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { MIGRATIONS, type Migration } from "./migrations/index.js";
import type { Database } from "./open.js";
import type { Schema } from "./schema.js";

/** Key of the transaction-scoped advisory lock every migration runs under ("updraft" in ASCII). */
const MIGRATION_LOCK_KEY = 0x75706472616674n;

export interface MigrationInfo {
  readonly version: number;
  readonly name: string;
  /** When it was applied; only for applied migrations. */
  readonly appliedAt?: Date;
}

export interface MigrationStatus {
  readonly applied: MigrationInfo[];
  readonly pending: MigrationInfo[];
}

const CREATE_TABLE = sql`create table if not exists updraft_migration (
  version integer primary key,
  name text not null,
  applied_at timestamptz not null default now()
)`;

async function migrationTableExists(db: Kysely<Schema>): Promise<boolean> {
  const { rows } = await sql<{
    name: string | null;
  }>`select to_regclass('updraft_migration')::text as name`.execute(db);
  return rows[0]?.name != null;
}

async function appliedRows(db: Kysely<Schema>): Promise<MigrationInfo[]> {
  if (!(await migrationTableExists(db))) return [];
  const rows = await db
    .selectFrom("updraft_migration")
    .select(["version", "name", "applied_at"])
    .orderBy("version")
    .execute();
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
}

function checkNotNewer(applied: MigrationInfo[]): void {
  const known = new Set(MIGRATIONS.map((m) => m.version));
  const unknown = applied.filter((a) => !known.has(a.version));
  if (unknown.length > 0) {
    throw new UpdraftError(
      "DB_SCHEMA_NEWER",
      `The metadata database has migrations this Updraft does not know (${unknown.map((u) => `${u.version}-${u.name}`).join(", ")}): it was upgraded by a newer version. Run that version, or restore a backup.`,
      { details: { unknown: unknown.map((u) => u.version) } },
    );
  }
}

/** Runs the pending migrations inside `trx`, which must already hold the migration lock. */
async function applyPending(trx: Transaction<Schema>): Promise<Migration[]> {
  await CREATE_TABLE.execute(trx);
  const applied = await appliedRows(trx);
  checkNotNewer(applied);
  const done = new Set(applied.map((a) => a.version));
  const pending = MIGRATIONS.filter((m) => !done.has(m.version));
  for (const migration of pending) {
    for (const statement of migration.statements) {
      try {
        await sql.raw(statement).execute(trx);
      } catch (err) {
        throw new UpdraftError(
          "DB_MIGRATION_FAILED",
          `Migration ${migration.version}-${migration.name} failed and was rolled back: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err, details: { version: migration.version } },
        );
      }
    }
    await trx
      .insertInto("updraft_migration")
      .values({ version: migration.version, name: migration.name })
      .execute();
  }
  return pending;
}

function lock(trx: Transaction<Schema>) {
  return sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.execute(trx);
}

/**
 * Brings the schema up to date, all pending migrations in one transaction under an advisory
 * lock: of several processes migrating at once, one migrates and the others wait, then find
 * nothing to do. Returns the migrations this call applied.
 */
export async function migrate(database: Database): Promise<MigrationInfo[]> {
  const applied = await database.db.transaction().execute(async (trx) => {
    await lock(trx);
    return applyPending(trx);
  });
  return applied.map((m) => ({ version: m.version, name: m.name }));
}

/** Which migrations are applied and which are pending; changes nothing. */
export async function checkMigrations(database: Database): Promise<MigrationStatus> {
  const applied = await appliedRows(database.db);
  const done = new Set(applied.map((a) => a.version));
  return {
    applied,
    pending: MIGRATIONS.filter((m) => !done.has(m.version)).map((m) => ({
      version: m.version,
      name: m.name,
    })),
  };
}

/** Drops every table in the current schema, then migrates again, in one transaction. Destroys all data. */
export async function resetDatabase(database: Database): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    await lock(trx);
    const { rows } = await sql<{ tablename: string }>`
      select tablename from pg_tables where schemaname = current_schema()`.execute(trx);
    for (const { tablename } of rows) {
      await sql`drop table if exists ${sql.table(tablename)} cascade`.execute(trx);
    }
    await applyPending(trx);
  });
}
