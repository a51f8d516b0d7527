import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openMemoryDatabase } from "./memory-database.js";
import { isUniqueViolation } from "./pg-errors.js";
import { openPGlite, type PGliteDatabase } from "./pglite-database.js";
import { PGliteThread } from "./pglite-thread.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "updraft-pglite-"));
  dirs.push(dir);
  return dir;
}

/** Threads of this process: a closed database must leave none of its own behind. */
const threadCount = (): number => readdirSync("/proc/self/task").length;

let template: Uint8Array;
let database: PGliteDatabase;

beforeAll(async () => {
  // A migrated template, so that each database here opens in about a second (no initdb).
  const first = (await openMemoryDatabase(tmpdir())) as PGliteDatabase;
  template = await first.dumpDataDir();
  database = first;
  await sql`create table thing (id int8 primary key, at timestamptz, doc jsonb, bytes bytea,
    flag boolean, tags text[], n numeric, constraint thing_doc_unique unique (doc))`.execute(database.db);
}, 120_000);

afterAll(() => database.close());

describe("PGlite in a worker thread", () => {
  it("returns the values PGlite parses, through structured clone, unchanged", async () => {
    const at = new Date("2026-03-04T05:06:07.089Z");
    await sql`insert into thing values (${1}, ${at}, ${JSON.stringify({ a: [1, "x", null] })},
      ${Buffer.from([0, 1, 255])}, ${true}, ${["p", "q"]}, ${"1.50"})`.execute(database.db);
    const { rows } = await sql<Record<string, unknown>>`select *, 9007199254740993::int8 as big,
      count(*) over () as total, 'infinity'::timestamptz as forever from thing`.execute(database.db);
    expect(rows).toEqual([
      {
        id: 1,
        at,
        doc: { a: [1, "x", null] },
        bytes: new Uint8Array([0, 1, 255]),
        flag: true,
        tags: ["p", "q"],
        n: "1.50",
        big: 9007199254740993n,
        total: 1,
        forever: Infinity,
      },
    ]);
    expect(rows[0]?.["at"]).toBeInstanceOf(Date);
  });

  it("reports affected rows of writes", async () => {
    const r = await database.db.updateTable("variable").set({ val: "x" }).executeTakeFirst();
    expect(r.numUpdatedRows).toBe(0n);
    await database.db.insertInto("variable").values({ key: "a", val: "1", description: null }).execute();
    const d = await database.db.deleteFrom("variable").where("key", "=", "a").executeTakeFirst();
    expect(d.numDeletedRows).toBe(1n);
  });

  it("gives SQL errors their PostgreSQL code and fields, and the caller's stack", async () => {
    const insert = (id: number): Promise<unknown> =>
      sql`insert into thing (id, doc) values (${id}, ${'{"unique":true}'})`.execute(database.db);
    await insert(2);
    const err = await insert(3).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "23505", constraint: "thing_doc_unique", severity: "ERROR" });
    expect(isUniqueViolation(err, "thing_doc_unique")).toBe(true);
    expect((err as Error).message).toMatch(/duplicate key value violates unique constraint/);
    expect((err as Error).stack).toContain("pglite-database.test.ts");
    await expect(sql`select nope`.execute(database.db)).rejects.toMatchObject({ code: "42703" });
    // A parameter structured clone cannot copy fails that query alone.
    await expect(sql`select ${{ f: () => 1 }}::jsonb as f`.execute(database.db)).rejects.toThrow(
      /could not be cloned/,
    );
    await expect(sql`select 1 as one`.execute(database.db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it("keeps a transaction to itself: others wait, and a failed one rolls back", async () => {
    let outside: Promise<unknown> | undefined;
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto("variable").values({ key: "tx", val: "1", description: null }).execute();
        // Sent while the transaction runs: it must neither see nor join it.
        outside = database.db.selectFrom("variable").select("key").where("key", "=", "tx").execute();
        await new Promise((r) => setTimeout(r, 50));
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await outside).toEqual([]);
  });

  it("sends BEGIN with the first statement, keeping its settings; an empty transaction is a no-op", async () => {
    const level = await database.db
      .transaction()
      .setIsolationLevel("serializable")
      .setAccessMode("read only")
      .execute((trx) =>
        sql<{ iso: string; ro: string }>`select current_setting('transaction_isolation') as iso,
          current_setting('transaction_read_only') as ro`.execute(trx),
      );
    expect(level.rows).toEqual([{ iso: "serializable", ro: "on" }]);
    await database.db.transaction().execute(async () => undefined);
    await expect(database.db.transaction().execute(() => Promise.reject(new Error("x")))).rejects.toThrow(
      "x",
    );
    // A first statement that fails leaves no transaction open behind it.
    await expect(
      database.db.transaction().execute((trx) => sql`select nope`.execute(trx)),
    ).rejects.toMatchObject({
      code: "42703",
    });
    // An aborted transaction left open would fail this (25P02), a serializable one would show.
    const after = await sql<{ iso: string }>`select current_setting('transaction_isolation') as iso`.execute(
      database.db,
    );
    expect(after.rows).toEqual([{ iso: "read committed" }]);
  });

  it("rolls back to savepoints", async () => {
    await database.db.transaction().execute(async (trx) => {
      await trx.insertInto("variable").values({ key: "kept", val: "1", description: null }).execute();
      await sql`savepoint s1`.execute(trx);
      await trx.insertInto("variable").values({ key: "dropped", val: "1", description: null }).execute();
      await sql`rollback to savepoint s1`.execute(trx);
    });
    const keys = await database.db
      .selectFrom("variable")
      .select("key")
      .where("key", "in", ["kept", "dropped"])
      .execute();
    expect(keys).toEqual([{ key: "kept" }]);
    const ctl = await database.db.startTransaction().execute();
    const sp = await ctl.savepoint("sp").execute();
    await sp.insertInto("variable").values({ key: "sp", val: "1", description: null }).execute();
    await sp.rollbackToSavepoint("sp").execute();
    await ctl.commit().execute();
    expect(await database.db.selectFrom("variable").select("key").where("key", "=", "sp").execute()).toEqual(
      [],
    );
  });

  it("loads a dump into a new database", async () => {
    await database.db
      .insertInto("variable")
      .values({ key: "dumped", val: "yes", description: null })
      .execute();
    const copy = await openPGlite({ loadDataDir: await database.dumpDataDir() });
    try {
      const row = await copy.db
        .selectFrom("variable")
        .select("val")
        .where("key", "=", "dumped")
        .executeTakeFirst();
      expect(row).toEqual({ val: "yes" });
    } finally {
      await copy.close();
    }
  });

  it("ends its thread on close; later queries fail with DB_CLOSED", async () => {
    const before = threadCount();
    const db = await openPGlite({ loadDataDir: template.slice() });
    expect(threadCount()).toBeGreaterThan(before);
    const stop = await db.listen("closing", () => undefined);
    await db.close();
    await db.close();
    await stop();
    expect(threadCount()).toBe(before);
    await expect(sql`select 1`.execute(db.db)).rejects.toMatchObject({ code: "DB_CLOSED" });
  });

  it("fails queries in flight and later ones with DB_WORKER_EXITED when the thread dies", async () => {
    const thread = await PGliteThread.start({ loadDataDir: template.slice() }, "memory");
    const slow = thread.query("select pg_sleep(5)", []);
    await new Promise((r) => setTimeout(r, 100));
    await thread.terminate();
    await expect(slow).rejects.toMatchObject({ code: "DB_WORKER_EXITED" });
    await expect(thread.query("select 1", [])).rejects.toMatchObject({
      code: "DB_WORKER_EXITED",
      message: expect.stringMatching(/worker thread exited with code 1.*restart the process/),
    });
    await thread.close();
  });

  it("reports a data directory it cannot open as DB_OPEN_FAILED, and releases its lock", async () => {
    const dataDir = tempDir();
    // A data directory of another PostgreSQL major version.
    mkdirSync(join(dataDir, "pgdata"));
    writeFileSync(join(dataDir, "pgdata", "PG_VERSION"), "9\n");
    const err = await openPGlite({ dataDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "DB_OPEN_FAILED" });
    expect((err as Error).message).toContain("Cannot open the embedded database in");
    await expect(openPGlite({ dataDir })).rejects.toMatchObject({ code: "DB_OPEN_FAILED" });
  });
});

describe("the process and its database thread", () => {
  it("stays alive while a query runs, and not because of an idle database", async () => {
    // Bundled so that Node runs it without vitest; each module keeps its own import.meta.url.
    const outDir = join(here, "../../node_modules/.cache/updraft-test");
    mkdirSync(outDir, { recursive: true });
    const outfile = join(outDir, `forgets-close-${process.pid}.mjs`);
    dirs.push(outfile);
    await build({
      stdin: {
        contents: `
          import { openMemoryDatabase } from "./memory-database.js";
          import { tmpdir } from "node:os";
          const database = await openMemoryDatabase(tmpdir());
          const rows = await database.db.selectNoFrom((eb) => eb.fn("pg_sleep", [eb.lit(0.3)]).as("slept")).execute();
          process.stdout.write("queried " + rows.length + "\\n");
          // No close: the idle database must not keep the process alive.`,
        resolveDir: here,
        loader: "ts",
      },
      bundle: true,
      packages: "external",
      platform: "node",
      format: "esm",
      outfile,
      logLevel: "silent",
      plugins: [
        {
          name: "source-import-meta-url",
          setup(b) {
            b.onLoad({ filter: /\.ts$/ }, async (args) => ({
              contents: (await readFile(args.path, "utf8")).replaceAll(
                "import.meta.url",
                JSON.stringify(pathToFileURL(args.path).href),
              ),
              loader: "ts",
            }));
          },
        },
      ],
    });
    const child = spawn(process.execPath, [outfile], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await new Promise((r) => child.once("exit", (c, s) => r(c ?? s)));
    clearTimeout(timer);
    expect({ code, out }).toEqual({ code: 0, out: "queried 1\n" });
  }, 60_000);
});
