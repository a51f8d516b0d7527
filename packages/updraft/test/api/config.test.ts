// GET /api/v1/config and /config/section/{section}/option/{option}, as Airflow's config endpoint:
// refused (403) unless webserver.expose_config allows it; secrets (fernet key, secret key, the
// database URL with its password) hidden with non-sensitive-only, and always when asked for by
// name; JSON or ini-like text by Accept; config:read (Op and Admin) only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, seedUserWithToken, startTestServer, type TestServer } from "./helpers.js";

const admin = { authorization: `Bearer ${API_TOKEN}` };
const DB_URL = "postgres://updraft:db-pass-s3cret@db.example:5432/updraft";
const SECRET_KEY = "api-secret-key-s3cret-0123456789";

type Config = { sections: { name: string; options: { key: string; value: string }[] }[] };
const valueOf = (c: Config, section: string, key: string) =>
  c.sections.find((s) => s.name === section)?.options.find((o) => o.key === key)?.value;

describe("webserver.expose_config", () => {
  it("is false by default and accepts Airflow's spellings of true and false", () => {
    const at = (v: unknown) =>
      loadConfig({ home: "/tmp/x", env: {}, overrides: { "webserver.expose_config": v } }).webserver
        .expose_config;
    expect(loadConfig({ home: "/tmp/x", env: {} }).webserver.expose_config).toBe("false");
    expect(at(true)).toBe("true");
    expect(at("True")).toBe("true");
    expect(at("0")).toBe("false");
    expect(at("Non-Sensitive-Only")).toBe("non-sensitive-only");
    expect(() => at("sometimes")).toThrow(/expose_config/);
    expect(
      loadConfig({ home: "/tmp/x", env: { UPDRAFT__WEBSERVER__EXPOSE_CONFIG: "non-sensitive-only" } })
        .webserver.expose_config,
    ).toBe("non-sensitive-only");
  });
});

withTestDatabases(
  "config API",
  (getDb) => {
    const servers: TestServer[] = [];
    const start = async (expose?: string) => {
      const t = await startTestServer(getDb(), {
        overrides: {
          "database.sql_alchemy_conn": DB_URL,
          "api.secret_key": SECRET_KEY,
          ...(expose === undefined ? {} : { "webserver.expose_config": expose }),
        },
      });
      servers.push(t);
      return t;
    };
    let closed: TestServer;
    let hidden: TestServer;
    let open: TestServer;
    beforeAll(async () => {
      await seedUserWithToken(getDb(), "cfg-op", "Op", "token-cfg-op");
      await seedUserWithToken(getDb(), "cfg-user", "User", "token-cfg-user");
      closed = await start();
      hidden = await start("non-sensitive-only");
      open = await start("true");
    });
    afterAll(async () => {
      for (const t of servers) await t.server.close();
    });
    const get = (t: TestServer, url: string, headers: Record<string, string> = admin) =>
      t.server.app.inject({ method: "GET", url, headers });

    it("refuses with a 403 problem that names the setting while expose_config is false", async () => {
      for (const url of ["/api/v1/config", "/api/v1/config/section/core/option/parallelism"]) {
        const res = await get(closed, url);
        expect(res.statusCode).toBe(403);
        expect(res.headers["content-type"]).toContain("application/problem+json");
        expect(res.json().detail).toContain("webserver.expose_config");
        expect(res.body).not.toContain("db-pass-s3cret");
      }
    });

    it("shows every section with secrets hidden when non-sensitive-only", async () => {
      const res = await get(hidden, "/api/v1/config");
      expect(res.statusCode).toBe(200);
      const c = res.json<Config>();
      expect(c.sections.map((s) => s.name)).toEqual(
        expect.arrayContaining(["core", "database", "webserver"]),
      );
      expect(valueOf(c, "core", "parallelism")).toBe("32");
      expect(valueOf(c, "webserver", "expose_config")).toBe("non-sensitive-only");
      expect(valueOf(c, "database", "sql_alchemy_conn")).toBe("< hidden >");
      expect(valueOf(c, "api", "secret_key")).toBe("< hidden >");
      expect(valueOf(c, "core", "fernet_key")).toBe("< hidden >");
      expect(res.body).not.toMatch(/db-pass-s3cret|api-secret-key-s3cret/);
      expect(res.body).not.toContain(hidden.config.core.fernet_key ?? "no key");
    });

    it("shows secrets with true, but never one asked for by name", async () => {
      const c = (await get(open, "/api/v1/config")).json<Config>();
      expect(valueOf(c, "database", "sql_alchemy_conn")).toBe(DB_URL);
      const one = await get(open, "/api/v1/config/section/database/option/sql_alchemy_conn");
      expect(one.statusCode).toBe(200);
      expect(one.json()).toEqual({
        sections: [{ name: "database", options: [{ key: "sql_alchemy_conn", value: "< hidden >" }] }],
      });
      const plain = await get(hidden, "/api/v1/config/section/core/option/parallelism");
      expect(plain.json()).toEqual({
        sections: [{ name: "core", options: [{ key: "parallelism", value: "32" }] }],
      });
    });

    it("filters by section, and answers 404 for an unknown section or option", async () => {
      const res = await get(hidden, "/api/v1/config?section=webserver");
      expect(res.json<Config>().sections.map((s) => s.name)).toEqual(["webserver"]);
      expect((await get(hidden, "/api/v1/config?section=nope")).statusCode).toBe(404);
      const none = await get(hidden, "/api/v1/config/section/core/option/nope");
      expect(none.statusCode).toBe(404);
      expect(none.json().detail).toContain("[core/nope]");
    });

    it("answers ini-like text/plain by Accept, secrets hidden", async () => {
      const res = await get(hidden, "/api/v1/config", { ...admin, accept: "text/plain" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toContain("text/plain");
      expect(res.body).toContain("[core]\n");
      expect(res.body).toContain("\nparallelism = 32\n");
      expect(res.body).toContain("sql_alchemy_conn = < hidden >");
      expect(res.body).toMatch(/\n\n\[database\]\n/);
      expect(res.body).not.toContain("db-pass-s3cret");
      const one = await get(hidden, "/api/v1/config/section/core/option/parallelism", {
        ...admin,
        accept: "text/plain",
      });
      expect(one.body).toBe("[core]\nparallelism = 32\n");
    });

    it("lets an Op read it and refuses a User (403 naming config:read)", async () => {
      expect((await get(hidden, "/api/v1/config", { authorization: "Bearer token-cfg-op" })).statusCode).toBe(
        200,
      );
      const user = await get(hidden, "/api/v1/config", { authorization: "Bearer token-cfg-user" });
      expect(user.statusCode).toBe(403);
      expect(user.json().details.permission).toBe("config:read");
    });
  },
  { dialects: ["pglite"] },
);
