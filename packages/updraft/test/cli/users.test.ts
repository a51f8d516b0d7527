// `updraft users …` of the real binary against a fresh PostgreSQL database: the users, roles and
// tokens it makes work against the API server, weak passwords are refused clearly, and tokens
// are shown once and stored hashed.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiServer, type ApiServer } from "../../src/api/index.js";
import { loadConfig } from "../../src/config/index.js";
import { openDatabase, type Database } from "../../src/db/index.js";
import type { ThrowawayDatabase } from "../db-testing.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { expectCleanError, postgresOrSkip, updraft, type Run } from "./cli-helpers.js";

let pgdb: ThrowawayDatabase | null = null;
let client: pg.Client;
let database: Database;
let server: ApiServer;
let home: string;
let env: NodeJS.ProcessEnv;

const run = (...args: string[]): Promise<Run> => updraft(env, args, home);
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

beforeAll(async () => {
  pgdb = await postgresOrSkip();
  if (pgdb === null) return;
  home = tempDir();
  env = { UPDRAFT_HOME: home, UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: pgdb.url };
  client = new pg.Client({ connectionString: pgdb.url });
  await client.connect();
  const migrated = await run("db", "migrate");
  expect(migrated.code, migrated.stderr).toBe(0);
  database = await openDatabase({ url: pgdb.url, poolSize: 2 });
  server = createApiServer({
    database,
    config: loadConfig({ home, env: {} }),
    events: null,
    secretKey: "users-test-secret-0123456789",
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await database?.close();
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

describe("updraft users on PostgreSQL", () => {
  maybe("creates, lists, changes roles and passwords of, and deletes users", async () => {
    const created = await run(
      "users",
      "create",
      "--username",
      "alice",
      "--email",
      "alice@example.com",
      "--role",
      "Viewer",
      "--firstname",
      "Alice",
      "--lastname",
      "Liddell",
      "--password",
      "wonderland-1",
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('User "alice" created with role Viewer');
    const stored = await client.query<{ password: string }>(
      "select password from ab_user where username = 'alice'",
    );
    expect(stored.rows[0]?.password).toMatch(/^\$argon2id\$/);

    const me = await server.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: basic("alice", "wonderland-1"),
    });
    expect(me.json()).toMatchObject({ username: "alice", roles: ["Viewer"], first_name: "Alice" });
    const denied = await server.app.inject({
      method: "GET",
      url: "/api/v1/variables",
      headers: basic("alice", "wonderland-1"),
    });
    expect(denied.statusCode).toBe(403);

    expect((await run("users", "add-role", "--username", "alice", "--role", "Op")).code).toBe(0);
    const allowed = await server.app.inject({
      method: "GET",
      url: "/api/v1/variables",
      headers: basic("alice", "wonderland-1"),
    });
    expect(allowed.statusCode).toBe(200);
    expect((await run("users", "remove-role", "--username", "alice", "--role", "Op")).code).toBe(0);
    expectCleanError(
      await run("users", "remove-role", "--username", "alice", "--role", "Op"),
      "ROLE_NOT_FOUND",
    );
    expectCleanError(
      await run("users", "add-role", "--username", "alice", "--role", "Superuser"),
      "ROLE_NOT_FOUND",
    );

    const list = await run("users", "list", "-o", "json");
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        username: "alice",
        email: "alice@example.com",
        roles: ["Viewer"],
        active: true,
      }),
    ]);

    const random = await run("users", "reset-password", "--username", "alice", "--use-random-password");
    expect(random.code, random.stderr).toBe(0);
    const password = /Password \(shown once\): (\S+)/.exec(random.stdout)?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(16);
    const old = await server.app.inject({
      method: "GET",
      url: "/api/v1/dags",
      headers: basic("alice", "wonderland-1"),
    });
    expect(old.statusCode).toBe(401);
    const fresh = await server.app.inject({
      method: "GET",
      url: "/api/v1/dags",
      headers: basic("alice", password),
    });
    expect(fresh.statusCode).toBe(200);

    expectCleanError(
      await run(
        "users",
        "create",
        "--username",
        "alice",
        "--email",
        "other@example.com",
        "--role",
        "User",
        "--password",
        "another-pass-1",
      ),
      "USER_EXISTS",
    );
    expect((await run("users", "delete", "--username", "alice")).code).toBe(0);
    expectCleanError(await run("users", "delete", "--username", "alice"), "USER_NOT_FOUND");
    expect(Number((await client.query("select count(*) from ab_user")).rows[0].count)).toBe(0);
  });

  maybe("refuses weak passwords with a clear message and creates nothing", async () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["short1", /shorter than 8/],
      ["changeme", /tutorial's example/],
      ["CHANGEME", /tutorial's example/],
      ["bobby-tables", /is the user name/],
    ];
    for (const [password, why] of cases) {
      const r = await run(
        "users",
        "create",
        "--username",
        "bobby-tables",
        "--email",
        "b@example.com",
        "--role",
        "User",
        "--password",
        password,
      );
      expectCleanError(r, "PASSWORD_WEAK");
      expect(r.stderr).toMatch(why);
    }
    expectCleanError(
      await run("users", "create", "--username", "bob", "--email", "b@example.com", "--role", "User"),
      "USER_INVALID",
    );
    expect(Number((await client.query("select count(*) from ab_user")).rows[0].count)).toBe(0);
  });

  maybe(
    "creates tokens shown once and stored hashed, lists and revokes them, and honours --expires-in",
    async () => {
      expect(
        (
          await run(
            "users",
            "create",
            "--username",
            "carol",
            "--email",
            "carol@example.com",
            "--role",
            "User",
            "--use-random-password",
          )
        ).code,
      ).toBe(0);
      const made = await run(
        "users",
        "tokens",
        "create",
        "--username",
        "carol",
        "--expires-in",
        "30d",
        "--description",
        "ci",
      );
      expect(made.code, made.stderr).toBe(0);
      const token = made.stdout.trim().split("\n").at(-1) ?? "";
      expect(token).toMatch(/^updraft_[A-Za-z0-9_-]{40,}$/);
      const rows = await client.query<{ token_hash: string; expires_at: Date }>(
        "select token_hash, expires_at from api_token",
      );
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]?.token_hash).not.toContain(token);
      const days = ((rows.rows[0]?.expires_at.getTime() ?? 0) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThan(30.1);

      const auth = { authorization: `Bearer ${token}` };
      expect(
        (await server.app.inject({ method: "GET", url: "/api/v1/dags", headers: auth })).statusCode,
      ).toBe(200);
      const listed = JSON.parse(
        (await run("users", "tokens", "list", "--username", "carol", "-o", "json")).stdout,
      ) as { id: number; description: string; revoked_at: string | null }[];
      expect(listed).toEqual([expect.objectContaining({ description: "ci", revoked_at: null })]);
      expect(JSON.stringify(listed)).not.toContain(token);
      expect((await run("users", "tokens", "revoke", "--id", String(listed[0]?.id))).code).toBe(0);
      expect(
        (await server.app.inject({ method: "GET", url: "/api/v1/dags", headers: auth })).statusCode,
      ).toBe(401);
      expectCleanError(
        await run("users", "tokens", "revoke", "--id", String(listed[0]?.id)),
        "API_TOKEN_NOT_FOUND",
      );
      expectCleanError(
        await run("users", "tokens", "create", "--username", "carol", "--expires-in", "soon"),
        "INVALID_DURATION",
      );
    },
  );
});
