/**
 * Test helpers for anything that needs the metadata database: the same tests run on an
 * in-memory PGlite and on a throwaway PostgreSQL database. Only for tests (imports vitest).
 *
 * @example
 * ```ts
 * withTestDatabases("dag runs", (getDb) => {
 *   it("creates a run", async () => {
 *     const { db } = getDb();
 *     // …
 *   });
 * });
 * ```
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";
import { UpdraftError } from "../src/common/errors.js";
import { migrate } from "../src/db/migrate.js";
import { openMemoryDatabase } from "../src/db/memory-database.js";
import { openDatabase, type Database, type DialectName } from "../src/db/open.js";

/** Admin URL used to create throwaway databases; override with UPDRAFT_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL =
  process.env["UPDRAFT_TEST_POSTGRES_URL"] ?? "postgres://root@127.0.0.1:5432/postgres";

export interface ThrowawayDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, ending any connections still open to it. */
  drop(): Promise<void>;
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database `updraft_test_<random>` and returns its URL. */
export async function createThrowawayDatabase(adminUrl = TEST_POSTGRES_URL): Promise<ThrowawayDatabase> {
  const name = `updraft_test_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
        () => undefined,
      ),
  };
}

/**
 * An in-memory PGlite database. Creating one runs initdb (seconds), so the first call saves a
 * migrated data directory in the temp folder, keyed by PGlite version and migrations, and later
 * calls, in any test file, load it (about a second). With `migrate: false` it is empty, and slow.
 */
export async function openTestPGlite(options: { migrate?: boolean } = {}): Promise<Database> {
  if (options.migrate === false) return openDatabase({ memory: true });
  return openMemoryDatabase(tmpdir());
}

let probe: Promise<string | null> | undefined;

/** Null when the test PostgreSQL server answers, else why not. Probed once per test file. */
export function postgresProblem(): Promise<string | null> {
  probe ??= withAdmin(TEST_POSTGRES_URL, (c) => c.query("select 1")).then(
    () => null,
    (err: unknown) =>
      `PostgreSQL at ${TEST_POSTGRES_URL} is unreachable: ${err instanceof Error ? err.message : String(err)}`,
  );
  return probe;
}

const problem = await postgresProblem();

export interface TestDatabaseOptions {
  /** Run migrations before the tests (default true). */
  migrate?: boolean;
  /** Only these dialects (default both). */
  dialects?: readonly DialectName[];
}

/**
 * Declares the suite `body` once per dialect: on an in-memory PGlite and on a fresh PostgreSQL
 * database (created before, dropped after the file). If PostgreSQL is unreachable the postgres
 * suite fails under CI=true and is skipped with a warning otherwise.
 */
export function withTestDatabases(
  name: string,
  body: (getDb: () => Database, dialect: DialectName) => void,
  options: TestDatabaseOptions = {},
): void {
  for (const dialect of options.dialects ?? (["pglite", "postgres"] as const)) {
    const title = `${name} [${dialect}]`;
    if (dialect === "postgres" && problem !== null) {
      if (process.env["CI"] === "true") {
        describe(title, () => {
          it("needs PostgreSQL", () => {
            throw new UpdraftError(
              "TEST_POSTGRES_UNREACHABLE",
              `${problem}. CI must run the PostgreSQL suite.`,
            );
          });
        });
      } else {
        console.warn(`SKIPPED ${title}: ${problem}. Start PostgreSQL or set UPDRAFT_TEST_POSTGRES_URL.`);
        // Outside CI only, with the reason printed above: no PostgreSQL on this laptop.
        describe.skip(title, () => body(() => unopened(title), dialect));
      }
      continue;
    }
    describe(title, () => {
      let database: Database | undefined;
      let throwaway: ThrowawayDatabase | undefined;
      beforeAll(async () => {
        if (dialect === "postgres") {
          throwaway = await createThrowawayDatabase();
          database = await openDatabase({ url: throwaway.url, poolSize: 5 });
          if (options.migrate !== false) await migrate(database);
        } else {
          database = await openTestPGlite({ migrate: options.migrate !== false });
        }
      });
      afterAll(async () => {
        await database?.close();
        await throwaway?.drop();
      });
      body(() => database ?? unopened(title), dialect);
    });
  }
}

function unopened(title: string): never {
  throw new Error(`The test database of "${title}" is not open: use getDb() inside tests or hooks.`);
}
