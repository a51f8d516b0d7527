// API tokens through /api/v1/auth/tokens: anyone logged in lists, creates (the token shown once)
// and revokes their own; a revoked token is refused at once; another user's tokens are out of
// reach except for an Admin with ?username=; bad input is a problem+json naming the field.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, seedUserWithToken, startTestServer, type TestServer } from "./helpers.js";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const ADMIN = bearer(API_TOKEN);
const VIEWER = bearer("token-tok-viewer");
const OTHER = bearer("token-tok-other");

interface Token {
  id: number;
  description: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  token?: string;
}

withTestDatabases("API tokens API", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(getDb());
    await seedUserWithToken(getDb(), "tok-viewer", "Viewer", "token-tok-viewer");
    await seedUserWithToken(getDb(), "tok-other", "User", "token-tok-other");
  });
  afterAll(async () => {
    await t.server.close();
  });
  const call = (
    method: "GET" | "POST" | "DELETE",
    url: string,
    headers: Record<string, string>,
    payload?: unknown,
  ) =>
    t.server.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const list = async (headers: Record<string, string>, query = ""): Promise<Token[]> => {
    const res = await call("GET", `/api/v1/auth/tokens${query}`, headers);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { tokens: Token[] }).tokens;
  };

  it("a Viewer creates a token shown once, uses it, lists it without the secret, and revokes it", async () => {
    const before = await list(VIEWER);
    expect(before).toHaveLength(1);
    const res = await call("POST", "/api/v1/auth/tokens", VIEWER, {
      description: "laptop",
      expires_in_seconds: 86_400,
    });
    expect(res.statusCode, res.body).toBe(200);
    const made = res.json() as Token;
    expect(made.token).toMatch(/^updraft_/);
    expect(made.description).toBe("laptop");
    expect(Date.parse(made.expires_at ?? "") - Date.parse(made.created_at)).toBe(86_400_000);
    expect(made.revoked_at).toBeNull();

    const me = await call("GET", "/api/v1/auth/me", bearer(made.token ?? ""));
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: "tok-viewer", authenticated_by: "token" });

    const after = await list(VIEWER);
    expect(after.map((x) => x.id)).toEqual([...before.map((x) => x.id), made.id]);
    const listed = JSON.stringify(after);
    expect(listed).not.toContain(made.token);
    expect(listed).not.toContain("token_hash");
    expect(listed).not.toContain("token-tok-viewer");

    const del = await call("DELETE", `/api/v1/auth/tokens/${made.id}`, VIEWER);
    expect(del.statusCode, del.body).toBe(204);
    expect((await call("GET", "/api/v1/auth/me", bearer(made.token ?? ""))).statusCode).toBe(401);
    expect((await list(VIEWER)).find((x) => x.id === made.id)?.revoked_at).not.toBeNull();
    // The seeded token still works; the audit log holds both changes without the secret.
    expect((await call("GET", "/api/v1/auth/me", VIEWER)).statusCode).toBe(200);
    const logged = await getDb()
      .db.selectFrom("log")
      .select(["event", "owner", "extra"])
      .where("event", "in", ["api_token.create", "api_token.revoke"])
      .where("owner", "=", "tok-viewer")
      .orderBy("id")
      .execute();
    expect(logged.map((l) => l.event)).toEqual(["api_token.create", "api_token.revoke"]);
    expect(JSON.stringify(logged)).not.toContain(made.token);
  });

  it("another user's token can be neither revoked nor listed, except by an Admin with ?username=", async () => {
    const other = (await list(OTHER))[0];
    expect(other).toBeDefined();
    const id = other?.id ?? 0;
    const refused = await call("DELETE", `/api/v1/auth/tokens/${id}`, VIEWER);
    expect(refused.statusCode).toBe(404);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.json().detail).toContain(`no unrevoked API token ${id}`);
    expect((await call("GET", "/api/v1/auth/me", OTHER)).statusCode).toBe(200);

    for (const [method, url] of [
      ["GET", "/api/v1/auth/tokens?username=tok-other"],
      ["POST", "/api/v1/auth/tokens?username=tok-other"],
      ["DELETE", `/api/v1/auth/tokens/${id}?username=tok-other`],
    ] as const) {
      const res = await call(method, url, VIEWER, method === "POST" ? {} : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().detail).toContain("only their own API tokens");
    }

    expect((await list(ADMIN, "?username=tok-other")).map((x) => x.id)).toContain(id);
    const made = await call("POST", "/api/v1/auth/tokens?username=tok-other", ADMIN, {});
    expect(made.statusCode).toBe(200);
    expect(made.json().expires_at).toBeNull();
    const theirs = bearer(made.json().token as string);
    expect((await call("GET", "/api/v1/auth/me", theirs)).json().username).toBe("tok-other");
    const del = await call("DELETE", `/api/v1/auth/tokens/${made.json().id}?username=tok-other`, ADMIN);
    expect(del.statusCode).toBe(204);
    expect((await call("GET", "/api/v1/auth/me", theirs)).statusCode).toBe(401);
    const missing = await call("GET", "/api/v1/auth/tokens?username=nobody-here", ADMIN);
    expect(missing.statusCode).toBe(404);
  });

  it("refuses bad input with a problem naming it, and a second revoke with 404", async () => {
    // A body the schema refuses is 422 (as the other routes); a malformed path is 400.
    const cases: [string, string, unknown, number][] = [
      ["POST", "/api/v1/auth/tokens", { expires_in_seconds: -5 }, 422],
      ["POST", "/api/v1/auth/tokens", { expires_in_seconds: "soon" }, 422],
      ["POST", "/api/v1/auth/tokens", { token: "chosen-by-me" }, 422],
      ["DELETE", "/api/v1/auth/tokens/abc", undefined, 400],
    ];
    for (const [method, url, body, status] of cases) {
      const res = await call(method as "POST" | "DELETE", url, VIEWER, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}`).toBe(status);
      expect(res.json().detail).toMatch(/expires_in_seconds|token|token_id/);
      expect(res.headers["content-type"]).toContain("application/problem+json");
    }
    const made = (await call("POST", "/api/v1/auth/tokens", VIEWER, {})).json() as Token;
    expect((await call("DELETE", `/api/v1/auth/tokens/${made.id}`, VIEWER)).statusCode).toBe(204);
    expect((await call("DELETE", `/api/v1/auth/tokens/${made.id}`, VIEWER)).statusCode).toBe(404);
    expect((await call("GET", "/api/v1/auth/tokens", {})).statusCode).toBe(401);
  });
});
