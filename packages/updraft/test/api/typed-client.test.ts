// The typed client (src/client) against a real server over HTTP: its types are generated from the
// server's own OpenAPI document, and the committed file must be what that document generates now
// (a route or schema changed without `npm run openapi` fails here).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountCliRoute } from "../../src/api/rest/cli.js";
import { createUpdraftClient } from "../../src/client/index.js";
import { createUser } from "../../src/services/index.js";
import { CLIENT_TYPES_FILE, clientTypesOf } from "../../scripts/openapi-types.mjs";
import { openTestPGlite } from "../db-testing.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";
import type { Database } from "../../src/db/index.js";

describe("typed REST client", () => {
  let database: Database;
  let t: TestServer;
  let url: string;
  const ran: string[][] = [];

  beforeAll(async () => {
    database = await openTestPGlite();
    t = await startTestServer(database, { apiToken: API_TOKEN });
    // As standalone mounts it: the client's one CLI call is in the document too.
    mountCliRoute(t.server.app, async ({ argv }, onOutput) => {
      ran.push(argv);
      onOutput?.("stdout", `ran ${argv.join(" ")}\n`);
      return { stdout: `ran ${argv.join(" ")}\n`, stderr: "", exit_code: 3 };
    });
    await saveTestDag(database, makeDag("typed_client_dag", [{ id: "a" }, { id: "b", upstream: ["a"] }]));
    await createUser(database.db, {
      username: "vera",
      email: "vera@example.com",
      password: "vera-secret-1",
      roles: ["Viewer"],
    });
    url = await t.server.listen(0, "127.0.0.1");
  });
  afterAll(async () => {
    await t.server.close();
    await database.close();
  });

  it("has committed types that match the server's OpenAPI document", async () => {
    const doc = (
      await t.server.app.inject({
        url: "/api/v1/openapi.json",
        headers: { authorization: `Bearer ${API_TOKEN}` },
      })
    ).json<unknown>();
    const committed = readFileSync(CLIENT_TYPES_FILE, "utf8");
    const generated = await clientTypesOf(doc);
    expect(generated === committed, "src/client/api-types.ts is stale: run `npm run openapi`").toBe(true);
  });

  it("reads typed data with an API token and reports problems as typed errors", async () => {
    const api = createUpdraftClient({ baseUrl: url, token: API_TOKEN });
    const { data } = await api.GET("/api/v1/dags/{dag_id}/tasks", {
      params: { path: { dag_id: "typed_client_dag" } },
    });
    expect(data?.tasks.map((task) => task.task_id)).toEqual(["a", "b"]);
    const missing = await api.GET("/api/v1/dags/{dag_id}", { params: { path: { dag_id: "nope" } } });
    expect(missing.response.status).toBe(404);
    expect(missing.data).toBeUndefined();
  });

  it("authenticates with Basic, and the role still decides", async () => {
    const api = createUpdraftClient({ baseUrl: url, basic: { username: "vera", password: "vera-secret-1" } });
    expect((await api.GET("/api/v1/dags")).data?.total_entries).toBe(1);
    const denied = await api.PATCH("/api/v1/dags/{dag_id}", {
      params: { path: { dag_id: "typed_client_dag" } },
      body: { is_paused: true },
    });
    expect(denied.response.status).toBe(403);
  });

  it("sends a cookie session's CSRF token on state changes only", async () => {
    let csrf: string | null = null;
    let cookie = "";
    const seen: { method: string; csrf: string | null }[] = [];
    // A browser keeps cookies itself; in Node the test carries them, as the page's fetch would.
    const fetchWithCookies: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      if (cookie !== "") request.headers.set("cookie", cookie);
      seen.push({ method: request.method, csrf: request.headers.get("x-csrf-token") });
      const res = await fetch(request);
      const set = res.headers.getSetCookie();
      if (set.length > 0) cookie = set.map((c) => c.split(";")[0]).join("; ");
      return res;
    };
    const api = createUpdraftClient({ baseUrl: url, csrfToken: () => csrf, fetch: fetchWithCookies });
    const login = await api.POST("/api/v1/auth/login", {
      body: { username: "test-admin", password: "test-admin-password-1" },
    });
    expect(login.response.status).toBe(200);
    csrf = login.data?.csrf_token ?? null;
    expect((await api.GET("/api/v1/auth/me")).data?.username).toBe("test-admin");
    const paused = await api.PATCH("/api/v1/dags/{dag_id}", {
      params: { path: { dag_id: "typed_client_dag" } },
      body: { is_paused: true },
    });
    expect(paused.data?.is_paused).toBe(true);
    expect(seen.find((s) => s.method === "GET")?.csrf).toBeNull();
    expect(seen.find((s) => s.method === "PATCH")?.csrf).toBe(csrf);
  });

  it("calls standalone's CLI route, whole or streamed", async () => {
    const api = createUpdraftClient({ baseUrl: url, token: API_TOKEN });
    const whole = await api.POST("/api/v1/cli", { body: { argv: ["dags", "list"], cwd: "/" } });
    expect(whole.data).toEqual({ stdout: "ran dags list\n", stderr: "", exit_code: 3 });
    const streamed = await api.POST("/api/v1/cli", {
      body: { argv: ["version"], cwd: "/" },
      headers: { accept: "application/x-ndjson" },
      parseAs: "text",
    });
    expect(streamed.response.headers.get("content-type")).toContain("application/x-ndjson");
    expect(
      streamed.data
        ?.trim()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([{ stdout: "ran version\n" }, { exit_code: 3 }]);
    const bad = await api.POST("/api/v1/cli", { body: { argv: ["x"], cwd: "relative" } });
    expect(bad.response.status).toBe(422);
    expect(ran).toEqual([["dags", "list"], ["version"]]);
  });
});
