import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { checkMigrations, migrate, resetDatabase } from "./migrate.js";
import { MIGRATIONS } from "./migrations/index.js";
import { openDatabase } from "./open.js";
import { createThrowawayDatabase, postgresProblem, withTestDatabases } from "../../test/db-testing.js";

withTestDatabases(
  "migrations",
  (getDb) => {
    it("applies every migration once, then nothing (idempotent)", async () => {
      const database = getDb();
      expect((await checkMigrations(database)).pending).toHaveLength(MIGRATIONS.length);
      expect((await migrate(database)).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(database)).toEqual([]);
      const status = await checkMigrations(database);
      expect(status.pending).toEqual([]);
      expect(status.applied.map((a) => a.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(status.applied[0]?.appliedAt).toBeInstanceOf(Date);
    });

    it("creates default_pool with 128 slots", async () => {
      const pool = await getDb()
        .db.selectFrom("pool")
        .selectAll()
        .where("pool", "=", "default_pool")
        .executeTakeFirst();
      expect(pool?.slots).toBe(128);
    });

    it("resetDatabase drops data and migrates again", async () => {
      const database = getDb();
      await database.db.insertInto("variable").values({ key: "k", val: "v", description: null }).execute();
      await resetDatabase(database);
      expect(await database.db.selectFrom("variable").selectAll().execute()).toEqual([]);
      expect((await checkMigrations(database)).pending).toEqual([]);
    });

    it("refuses a schema newer than the code", async () => {
      const database = getDb();
      await database.db.insertInto("updraft_migration").values({ version: 9999, name: "future" }).execute();
      await expect(migrate(database)).rejects.toMatchObject({ code: "DB_SCHEMA_NEWER" });
      await database.db.deleteFrom("updraft_migration").where("version", "=", 9999).execute();
    });

    it("rolls back a failed transaction without poisoning later queries", async () => {
      const { db } = getDb();
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("variable").values({ key: "tx", val: "1", description: null }).execute();
          await sql`select 1/0`.execute(trx);
        }),
      ).rejects.toThrow();
      expect(await db.selectFrom("variable").selectAll().where("key", "=", "tx").execute()).toEqual([]);
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(rows[0]?.one).toBe(1);
    });
  },
  { migrate: false },
);

describe("concurrent migrations on PostgreSQL", async () => {
  const problem = await postgresProblem();
  it.skipIf(problem !== null && process.env["CI"] !== "true")(
    "one process migrates, the others wait",
    async () => {
      const throwaway = await createThrowawayDatabase();
      const handles = await Promise.all(
        [1, 2, 3].map(() => openDatabase({ url: throwaway.url, poolSize: 2 })),
      );
      try {
        const results = await Promise.all(handles.map((h) => migrate(h)));
        const counts = results.map((r) => r.length).sort();
        expect(counts).toEqual([0, 0, MIGRATIONS.length]);
        expect((await checkMigrations(handles[0]!)).pending).toEqual([]);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
        await throwaway.drop();
      }
    },
  );
});
