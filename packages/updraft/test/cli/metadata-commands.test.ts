// The metadata commands of the real binary against a fresh PostgreSQL database: round-trips, and
// every bad input failing clearly (exit 1, no stack trace) with nothing changed in the database.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/db/migrations/index.js";
import type { ThrowawayDatabase } from "../db-testing.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { expectCleanError, paramsDagsFolder, postgresOrSkip, updraft, type Run } from "./cli-helpers.js";

const FERNET_KEY = Buffer.alloc(32, 7).toString("base64url");

let pgdb: ThrowawayDatabase | null = null;
let client: pg.Client;
let home: string;
let env: NodeJS.ProcessEnv;

const run = (...args: string[]): Promise<Run> => updraft(env, args, home);
async function count(sqlText: string, params: unknown[] = []): Promise<number> {
  const r = await client.query<{ n: number }>(`select count(*)::int as n from ${sqlText}`, params);
  return r.rows[0]?.n ?? -1;
}

beforeAll(async () => {
  pgdb = await postgresOrSkip();
  if (pgdb === null) return;
  home = tempDir();
  env = {
    UPDRAFT_HOME: home,
    UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: pgdb.url,
    UPDRAFT__CORE__FERNET_KEY: FERNET_KEY,
  };
  client = new pg.Client({ connectionString: pgdb.url });
  await client.connect();
  const migrated = await run("db", "migrate");
  expect(migrated.stdout, migrated.stderr).toContain(`Applied ${MIGRATIONS.length} migration`);
  const parsed = await run("dags", "reserialize", "--dags-folder", paramsDagsFolder());
  expect(parsed.stdout, parsed.stderr).toContain("1 DAG(s) written (params_dag)");
});

afterAll(async () => {
  await client?.end();
  await pgdb?.drop();
  cleanupTempDirs();
});

const maybe = (name: string, fn: () => Promise<void>, timeout = 60_000): void => {
  it(
    name,
    async (ctx) => {
      if (pgdb === null) ctx.skip();
      await fn();
    },
    timeout,
  );
};

describe("updraft db on PostgreSQL", () => {
  maybe("check, clean --dry-run, clean without and with --yes, reset without --yes", async () => {
    const [check, noYes] = await Promise.all([run("db", "check", "-o", "json"), run("db", "reset")]);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ dialect: "postgres", pending: [], up_to_date: true });
    expectCleanError(noYes, "CONFIRMATION_REQUIRED");
    expect(noYes.stderr).toContain("Add --yes");

    await client.query(`insert into dag_run (dag_id, run_id, run_type, state, conf, end_date)
      values ('params_dag', 'old_run', 'manual', 'success', '{}', now() - interval '40 days')`);
    const dry = await run("db", "clean", "--older-than", "30", "--dry-run", "-o", "json");
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dry_run: true, rows: { dag_run: 1 } });
    const refused = await run("db", "clean", "--older-than", "30");
    expectCleanError(refused, "CONFIRMATION_REQUIRED");
    expect(await count("dag_run where run_id = 'old_run'")).toBe(1);
    const [done, bad] = await Promise.all([
      run("db", "clean", "--older-than", "30", "--yes"),
      run("db", "clean", "--older-than", "soon", "--yes"),
    ]);
    expect(done.code, done.stderr).toBe(0);
    expect(await count("dag_run where run_id = 'old_run'")).toBe(0);
    expectCleanError(bad, "INVALID_NUMBER");
  });
});

describe("updraft variables on PostgreSQL", () => {
  maybe("set, get, list, delete, and errors for missing keys", async () => {
    await run("variables", "set", "region", "eu-west", "--description", "where");
    const [get, dflt, missing, list] = await Promise.all([
      run("variables", "get", "region"),
      run("variables", "get", "nope", "--default", "fallback"),
      run("variables", "get", "nope"),
      run("variables", "list", "-o", "json"),
    ]);
    expect(get.stdout).toBe("eu-west\n");
    expect(dflt.stdout).toBe("fallback\n");
    expectCleanError(missing, "VARIABLE_NOT_FOUND");
    expect(JSON.parse(list.stdout)).toContainEqual({ key: "region", description: "where" });
    // Encrypted at rest with the fernet key.
    const stored = await client.query<{ val: string; is_encrypted: boolean }>(
      "select val, is_encrypted from variable where key = 'region'",
    );
    expect(stored.rows[0]).toMatchObject({ is_encrypted: true });
    expect(stored.rows[0]?.val).not.toContain("eu-west");
    const [del, delAgain] = [
      await run("variables", "delete", "region"),
      await run("variables", "delete", "region"),
    ];
    expect(del.code).toBe(0);
    expectCleanError(delAgain, "VARIABLE_NOT_FOUND");
  });

  maybe("import and export round-trip Airflow's {key: value} file; bad files change nothing", async () => {
    const dir = tempDir();
    const doc = { plain: "text", number: 42, nested: { a: [1, 2] }, flag: true };
    writeFileSync(join(dir, "vars.json"), JSON.stringify(doc));
    writeFileSync(join(dir, "broken.json"), '{"x": "1",');
    writeFileSync(join(dir, "array.json"), "[1, 2]");
    writeFileSync(join(dir, "clash.json"), JSON.stringify({ fresh: "1", plain: "again" }));

    const imported = await updraft(env, ["variables", "import", "vars.json"], dir);
    expect(imported.stdout, imported.stderr).toContain("4 of 4 variables imported");
    const before = await client.query("select key, val from variable order by key");
    const [broken, array, missingFile, clash] = await Promise.all([
      run("variables", "import", join(dir, "broken.json")),
      run("variables", "import", join(dir, "array.json")),
      run("variables", "import", join(dir, "nope.json")),
      run("variables", "import", join(dir, "clash.json"), "--action-on-existing-key", "fail"),
    ]);
    expectCleanError(broken, "VARIABLES_FILE_INVALID");
    expect(broken.stderr).toContain("is not valid JSON");
    expectCleanError(array, "VARIABLES_FILE_INVALID");
    expect(array.stderr).toContain("not a JSON object");
    expectCleanError(missingFile, "VARIABLES_FILE_INVALID");
    expectCleanError(clash, "VARIABLE_EXISTS");
    expect((await client.query("select key, val from variable order by key")).rows).toEqual(before.rows);

    const exported = await updraft(env, ["variables", "export", "out.json"], dir);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "out.json"), "utf8"))).toEqual(doc);
    const [num, stdoutExport] = await Promise.all([
      run("variables", "get", "number"),
      run("variables", "export", "-"),
    ]);
    expect(num.stdout).toBe("42\n");
    expect(JSON.parse(stdoutExport.stdout)).toEqual(doc);
  });
});

describe("updraft connections on PostgreSQL", () => {
  maybe("parses Airflow URIs with percent-encoding, masks the password, refuses bad input", async () => {
    const uri = "postgresql://us%40er:p%3As%2Fs@db.example.com:6543/sales%20db?sslmode=require&api_token=abc";
    const added = await run("connections", "add", "warehouse", "--conn-uri", uri);
    expect(added.stdout, added.stderr).toContain("Connection warehouse (postgres) added.");
    await run(
      "connections",
      "add",
      "api",
      "--conn-type",
      "http",
      "--conn-host",
      "example.com",
      "--conn-password",
      "hunter2",
      "--conn-port",
      "443",
      "--conn-extra",
      '{"timeout": 5}',
    );
    const [get, table, list, dup, badUri, badPort, badExtra, neither, missing, noKey] = await Promise.all([
      run("connections", "get", "warehouse", "-o", "json"),
      run("connections", "get", "api"),
      run("connections", "list", "-o", "json"),
      run("connections", "add", "warehouse", "--conn-uri", uri),
      run("connections", "add", "x", "--conn-uri", "not a uri"),
      run("connections", "add", "x", "--conn-type", "http", "--conn-port", "99999"),
      run("connections", "add", "x", "--conn-type", "http", "--conn-extra", "{nope"),
      run("connections", "add", "x"),
      run("connections", "get", "nope"),
      updraft({ ...env, UPDRAFT__CORE__FERNET_KEY: "" }, ["connections", "get", "warehouse"], home),
    ]);
    expect(JSON.parse(get.stdout)).toEqual({
      conn_id: "warehouse",
      conn_type: "postgres",
      description: null,
      host: "db.example.com",
      schema: "sales db",
      login: "us@er",
      password: "***",
      port: 6543,
      extra: { sslmode: "require", api_token: "***" },
    });
    for (const out of [get.stdout, table.stdout, list.stdout]) {
      expect(out).not.toContain("p:s/s");
      expect(out).not.toContain("hunter2");
    }
    expect(table.stdout).toMatch(/api\s+http\s+example\.com\s+443\s+\*\*\*/);
    expect(
      (JSON.parse(list.stdout) as { conn_id: string; password: string }[]).map((c) => [
        c.conn_id,
        c.password,
      ]),
    ).toEqual([
      ["api", "***"],
      ["warehouse", "***"],
    ]);
    expectCleanError(dup, "CONNECTION_EXISTS");
    expectCleanError(badUri, "CONNECTION_INVALID");
    expectCleanError(badPort, "CONNECTION_INVALID");
    expectCleanError(badExtra, "CONNECTION_INVALID");
    expectCleanError(neither, "CONNECTION_INVALID");
    expectCleanError(missing, "CONNECTION_NOT_FOUND");
    expectCleanError(noKey, "CONNECTION_KEY_MISSING");
    expect(await count("connection")).toBe(2);
    // A connection the environment defines is the one a task's lookup gets: `get` shows that one
    // (masked, as stored ones) and says where it comes from; a bad value names its variable.
    const [fromEnv, badEnv] = await Promise.all([
      updraft(
        { ...env, UPDRAFT_CONN_WAREHOUSE: "http://svc:s3cret@api.internal:8080/v1" },
        ["connections", "get", "warehouse", "-o", "json"],
        home,
      ),
      updraft({ ...env, UPDRAFT_CONN_WAREHOUSE: "{not json" }, ["connections", "get", "warehouse"], home),
    ]);
    expect(JSON.parse(fromEnv.stdout), fromEnv.stderr).toMatchObject({
      conn_id: "warehouse",
      conn_type: "http",
      host: "api.internal",
      port: 8080,
      password: "***",
    });
    expect(fromEnv.stderr).toContain("from the environment variable UPDRAFT_CONN_WAREHOUSE");
    expect(fromEnv.stdout + fromEnv.stderr).not.toContain("s3cret");
    expectCleanError(badEnv, "CONNECTION_ENV_INVALID");
    expect(badEnv.stderr).toContain("UPDRAFT_CONN_WAREHOUSE");
    // The password is stored encrypted, and decrypts to the percent-decoded text.
    const stored = await client.query<{ password: string }>(
      "select password from connection where conn_id = 'warehouse'",
    );
    expect(stored.rows[0]?.password).not.toContain("p:s/s");
    expect((await run("connections", "delete", "warehouse")).code).toBe(0);
    expect(await count("connection")).toBe(1);
  });
});

describe("updraft pools on PostgreSQL", () => {
  maybe("set, get, list, delete; default_pool cannot be deleted", async () => {
    const set = await run("pools", "set", "etl", "4", "ETL jobs");
    expect(set.code, set.stderr).toBe(0);
    const [get, list, delDefault, missing, badSlots] = await Promise.all([
      run("pools", "get", "etl", "-o", "json"),
      run("pools", "list", "-o", "json"),
      run("pools", "delete", "default_pool"),
      run("pools", "get", "nope"),
      run("pools", "set", "x", "many", "d"),
    ]);
    expect(JSON.parse(get.stdout)).toEqual([
      { pool: "etl", slots: 4, description: "ETL jobs", include_deferred: false },
    ]);
    expect((JSON.parse(list.stdout) as { pool: string }[]).map((p) => p.pool)).toEqual([
      "default_pool",
      "etl",
    ]);
    expectCleanError(delDefault, "POOL_DELETE_DEFAULT");
    expectCleanError(missing, "POOL_NOT_FOUND");
    expectCleanError(badSlots, "INVALID_NUMBER");
    expect(await count("pool where pool = 'default_pool'")).toBe(1);
    expect((await run("pools", "delete", "etl")).code).toBe(0);
    expect(await count("pool where pool = 'etl'")).toBe(0);
  });
});

describe("updraft dags trigger / list-runs / state / pause and tasks on PostgreSQL", () => {
  maybe("bad triggers fail clearly and create nothing; a good one shows up everywhere", async () => {
    const [unknown, badJson, notObject, violating, badDate, badRunId] = await Promise.all([
      run("dags", "trigger", "no_such_dag"),
      run("dags", "trigger", "params_dag", "--conf", '{"limit": 5'),
      run("dags", "trigger", "params_dag", "--conf", "[1]"),
      run("dags", "trigger", "params_dag", "--conf", '{"limit": 5000}'),
      run("dags", "trigger", "params_dag", "--logical-date", "yesterday"),
      run("dags", "trigger", "params_dag", "--run-id", "bad id!"),
    ]);
    expectCleanError(unknown, "DAG_NOT_FOUND");
    expectCleanError(badJson, "DAG_RUN_CONF_INVALID");
    expect(badJson.stderr).toContain("--conf is not valid JSON");
    expectCleanError(notObject, "DAG_RUN_CONF_INVALID");
    expectCleanError(violating, "PARAMS_INVALID");
    expect(violating.stderr).toContain("limit");
    expect(violating.stderr).toContain("1000");
    expectCleanError(badDate, "DATE_INVALID");
    expectCleanError(badRunId, "RUN_ID_INVALID");
    expect(await count("dag_run where dag_id = 'params_dag'")).toBe(0);
    expect(await count("task_instance")).toBe(0);

    const ok = await run(
      "dags",
      "trigger",
      "params_dag",
      "--conf",
      '{"limit": 7}',
      "--run-id",
      "r1",
      "--logical-date",
      "2026-03-01T00:00:00Z",
      "-o",
      "json",
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      dag_id: "params_dag",
      run_id: "r1",
      state: "queued",
      run_type: "manual",
    });
    const [runs, queuedOnly, badState, unknownDag, state, byDate, noRun, tis, tisNoRun] = await Promise.all([
      run("dags", "list-runs", "params_dag", "-o", "json"),
      run("dags", "list-runs", "params_dag", "--state", "success", "-o", "json"),
      run("dags", "list-runs", "params_dag", "--state", "bogus"),
      run("dags", "list-runs", "no_such_dag"),
      run("dags", "state", "params_dag", "r1"),
      run("dags", "state", "params_dag", "2026-03-01"),
      run("dags", "state", "params_dag", "r404"),
      run("tasks", "states-for-dag-run", "params_dag", "r1", "-o", "json"),
      run("tasks", "states-for-dag-run", "params_dag", "r404"),
    ]);
    expect(JSON.parse(runs.stdout)).toEqual([
      {
        dag_id: "params_dag",
        run_id: "r1",
        state: "queued",
        run_type: "manual",
        logical_date: "2026-03-01T00:00:00.000Z",
        start_date: null,
        end_date: null,
      },
    ]);
    expect(JSON.parse(queuedOnly.stdout)).toEqual([]);
    expectCleanError(badState, "STATE_INVALID");
    expectCleanError(unknownDag, "DAG_NOT_FOUND");
    expect(state.stdout).toBe("queued\n");
    expect(byDate.stdout).toBe("queued\n");
    expectCleanError(noRun, "DAG_RUN_NOT_FOUND");
    expect(JSON.parse(tis.stdout)).toEqual([
      { task_id: "a", map_index: -1, state: null, try_number: 0, start_date: null, end_date: null },
      { task_id: "b", map_index: -1, state: null, try_number: 0, start_date: null, end_date: null },
    ]);
    expectCleanError(tisNoRun, "DAG_RUN_NOT_FOUND");
    const stored = await client.query<{ conf: unknown }>("select conf from dag_run where run_id = 'r1'");
    expect(stored.rows[0]?.conf).toEqual({ limit: 7 });

    const [paused, pauseUnknown] = await Promise.all([
      run("dags", "pause", "params_dag"),
      run("dags", "pause", "nope"),
    ]);
    expect(paused.stdout).toContain("paused");
    expectCleanError(pauseUnknown, "DAG_NOT_FOUND");
    expect((await client.query("select is_paused from dag where dag_id = 'params_dag'")).rows[0]).toEqual({
      is_paused: true,
    });
    await run("dags", "unpause", "params_dag");
    expect((await client.query("select is_paused from dag where dag_id = 'params_dag'")).rows[0]).toEqual({
      is_paused: false,
    });

    // tasks clear: shows and refuses without --yes, clears with it.
    await client.query(
      "update task_instance set state = 'failed', try_number = 1 where run_id = 'r1' and task_id = 'a'",
    );
    await client.query("update dag_run set state = 'failed' where run_id = 'r1'");
    const [preview, badRegex, badStart] = await Promise.all([
      run("tasks", "clear", "params_dag", "--only-failed", "--downstream"),
      run("tasks", "clear", "params_dag", "-t", "(", "--yes"),
      run("tasks", "clear", "params_dag", "--start-date", "31/01/2026", "--yes"),
    ]);
    expectCleanError(preview, "CONFIRMATION_REQUIRED");
    expect(preview.stdout).toMatch(/r1\s+a\s+-1\s+failed/);
    expectCleanError(badRegex, "TASK_REGEX_INVALID");
    expectCleanError(badStart, "DATE_INVALID");
    expect((await client.query("select state from task_instance where task_id = 'a'")).rows[0]).toEqual({
      state: "failed",
    });
    const cleared = await run("tasks", "clear", "params_dag", "--only-failed", "--yes");
    expect(cleared.stdout, cleared.stderr).toContain("Cleared 1 task instance(s); DAG runs queued again: r1");
    expect((await client.query("select state from task_instance where task_id = 'a'")).rows[0]).toEqual({
      state: null,
    });
  });

  maybe("backfill creates the runs and waits for them with progress until they finish", async () => {
    const [unknown, reversed] = await Promise.all([
      run("dags", "backfill", "nope", "-s", "2026-01-01", "-e", "2026-01-02"),
      run("dags", "backfill", "params_dag", "-s", "2026-01-05", "-e", "2026-01-02"),
    ]);
    expectCleanError(unknown, "DAG_NOT_FOUND");
    expectCleanError(reversed, "DATE_INVALID");
    const waiting = run(
      "dags",
      "backfill",
      "params_dag",
      "--from-date",
      "2026-01-01",
      "--to-date",
      "2026-01-03",
      "--max-active-runs",
      "2",
      "--poll-interval",
      "0.1",
    );
    // Play the scheduler: finish whatever backfill runs appear, one failing. (The scheduler's
    // own tests check that at most --max-active-runs of them run at once.)
    let finished = 0;
    const deadline = Date.now() + 30_000;
    while (finished < 3 && Date.now() < deadline) {
      const r = await client.query<{ run_id: string }>(
        "select run_id from dag_run where run_type = 'backfill' and state = 'queued' order by logical_date",
      );
      for (const { run_id } of r.rows) {
        const state = run_id.includes("2026-01-02") ? "failed" : "success";
        await client.query("update dag_run set state = $1, end_date = now() where run_id = $2", [
          state,
          run_id,
        ]);
        finished++;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    const done = await waiting;
    expect(done.stdout, done.stderr).toContain("Backfill of params_dag finished: 2 succeeded, 1 failed.");
    expect(done.stderr).toContain("3/3 runs finished, 1 failed");
    expect(done.code).toBe(1);
    const rerun = await run(
      "dags",
      "backfill",
      "params_dag",
      "-s",
      "2026-01-01",
      "-e",
      "2026-01-03",
      "--rerun-failed",
      "--dry-run",
    );
    expect(rerun.stdout).toMatch(/2026-01-02T00:00:00.000Z\s+rerun\s+backfill__2026-01-02/);
    expect(rerun.stdout).toMatch(/2026-01-01T00:00:00.000Z\s+skip/);
  });
});
