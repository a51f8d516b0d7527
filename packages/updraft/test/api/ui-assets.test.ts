// The API server's web UI routes (api/ui-assets.ts) on a UI folder made here: index.html for each
// page path, never cached; hashed assets cached for a year; a strict CSP; and, without a build, a
// 404 page that says how to build it. Unknown paths outside the UI still need credentials.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createApiServer, type ApiServer } from "../../src/api/index.js";
import { loadConfig } from "../../src/config/index.js";
import { openMemoryDatabase, type Database } from "../../src/db/index.js";
import { tempDir } from "../helpers.js";

const SECRET = "ui-assets-test-secret-0123456789";
let server: ApiServer | null = null;
let database: Database | null = null;

afterEach(async () => {
  await server?.close();
  await database?.close();
  server = null;
  database = null;
});

async function start(uiDir: string): Promise<ApiServer> {
  database = await openMemoryDatabase(tempDir());
  const config = loadConfig({ home: tempDir(), env: {} });
  server = createApiServer({ database, config, events: null, secretKey: SECRET, uiDir });
  await server.app.ready();
  return server;
}

function builtUi(): string {
  const dir = tempDir();
  mkdirSync(join(dir, "assets"));
  writeFileSync(
    join(dir, "index.html"),
    '<!doctype html><script type="module" src="/assets/app-abc123.js"></script>',
  );
  writeFileSync(join(dir, "assets", "app-abc123.js"), "console.log('ui');");
  return dir;
}

describe("the web UI's routes", () => {
  test("serve index.html for every page path without credentials, uncached, under a strict CSP", async () => {
    const { app } = await start(builtUi());
    for (const url of ["/", "/login", "/dags", "/dags/etl/grid?run=x"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain("/assets/app-abc123.js");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-type"]).toContain("text/html");
      const csp = String(res.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe");
    }
  });

  test("serve hashed assets with a year's immutable cache; a missing asset is 404", async () => {
    const { app } = await start(builtUi());
    const js = await app.inject({ method: "GET", url: "/assets/app-abc123.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(js.headers["content-type"]).toContain("javascript");
    expect((await app.inject({ method: "GET", url: "/assets/gone-000.js" })).statusCode).toBe(404);
  });

  test("say how to build the UI when it is not built", async () => {
    const { app } = await start(join(tempDir(), "no-ui-here"));
    const res = await app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toContain("npm run build -w @updraft/ui");
    expect((await app.inject({ method: "GET", url: "/assets/app.js" })).statusCode).toBe(404);
  });

  test("leave every other path behind the login: no catch-all", async () => {
    const { app } = await start(builtUi());
    for (const url of ["/api/v1/no-such-route", "/no-such-page", "/settings"])
      expect((await app.inject({ method: "GET", url })).statusCode, url).toBe(401);
  });
});
