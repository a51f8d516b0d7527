// The three ways to authenticate (Basic, Bearer API token, session cookie of /auth/login), the
// CSRF rule for cookie requests, login rate limits, and the events that end credentials: logout,
// password reset, disabling the user, revoking or expiring a token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/services/passwords.js";
import { createApiToken, createUser, resetPassword, setActive } from "../../src/services/index.js";
import { revokeApiToken } from "../../src/db/index.js";
import { withTestDatabases } from "../db-testing.js";
import { startTestServer, type TestServer } from "./helpers.js";

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

/** `name=value` pairs of the Set-Cookie headers, and each cookie's attributes. */
function setCookies(header: string | string[] | undefined): Map<string, { value: string; attrs: string[] }> {
  const out = new Map<string, { value: string; attrs: string[] }>();
  for (const c of [header ?? []].flat()) {
    const [pair = "", ...attrs] = c.split(";").map((s) => s.trim());
    const eq = pair.indexOf("=");
    out.set(pair.slice(0, eq), { value: decodeURIComponent(pair.slice(eq + 1)), attrs });
  }
  return out;
}

withTestDatabases(
  "authentication",
  (getDb) => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(getDb());
      await createUser(getDb().db, {
        username: "ann",
        email: "ann@example.com",
        password: "ann-secret-1",
        roles: ["User"],
      });
      await createUser(getDb().db, {
        username: "vic",
        email: "vic@example.com",
        password: "vic-secret-1",
        roles: ["Viewer"],
      });
    });
    afterAll(async () => {
      await t.server.close();
    });
    const inject = (
      method: "GET" | "POST" | "PATCH",
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
    const login = async (username: string, password: string, headers: Record<string, string> = {}) => {
      const res = await inject("POST", "/api/v1/auth/login", headers, { username, password });
      return { res, cookies: setCookies(res.headers["set-cookie"]) };
    };

    it("accepts Basic credentials and refuses wrong ones with a 401 that says how to authenticate", async () => {
      const ok = await inject("GET", "/api/v1/auth/me", basic("ann", "ann-secret-1"));
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ username: "ann", roles: ["User"], authenticated_by: "basic" });
      expect(ok.json().permissions).toContain("dag_runs:create");
      expect(ok.json().permissions).not.toContain("variables:read");
      const bad = await inject("GET", "/api/v1/dags", basic("ann", "wrong-password"));
      expect(bad.statusCode).toBe(401);
      expect(bad.headers["www-authenticate"]).toContain("Basic");
      expect(bad.json().detail).toMatch(/Authorization: Basic .*Bearer .*POST \/api\/v1\/auth\/login/);
      const none = await inject("GET", "/api/v1/dags", {});
      expect(none.statusCode).toBe(401);
      expect(none.json().detail).toContain("updraft users tokens create");
      // The web UI's own requests: no Basic challenge, which would open the browser's dialog.
      const fromUi = await inject("GET", "/api/v1/dags", { "x-requested-with": "XMLHttpRequest" });
      expect(fromUi.statusCode).toBe(401);
      expect(fromUi.headers["www-authenticate"]).toBe('Bearer realm="Updraft"');
    });

    it("logs in with a session cookie (HttpOnly, SameSite=Lax), needs the CSRF token to change state, and logs out", async () => {
      const { res, cookies } = await login("ann", "ann-secret-1");
      expect(res.statusCode).toBe(200);
      const session = cookies.get("updraft_session");
      const csrf = cookies.get("updraft_csrf");
      expect(session?.attrs).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Lax", "Path=/"]));
      expect(session?.attrs).not.toContain("Secure"); // plain http, no trusted proxy
      expect(csrf?.attrs).not.toContain("HttpOnly"); // the page reads it (double submit)
      expect(res.json().csrf_token).toBe(csrf?.value);
      const cookie = { cookie: `updraft_session=${session?.value}; updraft_csrf=${csrf?.value}` };

      const me = await inject("GET", "/api/v1/auth/me", cookie);
      expect(me.json()).toMatchObject({ username: "ann", authenticated_by: "session" });
      // A state change by cookie without, or with a wrong, X-CSRF-Token: 403.
      const noCsrf = await inject("PATCH", "/api/v1/dags/none", cookie, { is_paused: true });
      expect(noCsrf.statusCode).toBe(403);
      expect(noCsrf.json().code).toBe("CSRF_TOKEN_INVALID");
      const wrongCsrf = await inject(
        "PATCH",
        "/api/v1/dags/none",
        { ...cookie, "x-csrf-token": "nope" },
        {
          is_paused: true,
        },
      );
      expect(wrongCsrf.statusCode).toBe(403);
      const withCsrf = await inject(
        "PATCH",
        "/api/v1/dags/none",
        { ...cookie, "x-csrf-token": csrf?.value ?? "" },
        {
          is_paused: true,
        },
      );
      expect(withCsrf.statusCode).toBe(404); // past authentication, authorization and CSRF
      // Basic and Bearer requests need no CSRF token.
      expect(
        (await inject("PATCH", "/api/v1/dags/none", basic("ann", "ann-secret-1"), { is_paused: true }))
          .statusCode,
      ).toBe(404);

      const out = await inject("POST", "/api/v1/auth/logout", {
        ...cookie,
        "x-csrf-token": csrf?.value ?? "",
      });
      expect(out.statusCode).toBe(204);
      expect(setCookies(out.headers["set-cookie"]).get("updraft_session")?.attrs).toContain("Max-Age=0");
      const after = await inject("GET", "/api/v1/auth/me", cookie);
      expect(after.statusCode).toBe(401);
      expect(after.json().detail).toContain("session has ended");
    });

    it("marks the cookie Secure behind a trusted https proxy", async () => {
      const proxied = await startTestServer(getDb(), { overrides: { "api.trust_proxy": true } });
      try {
        const res = await proxied.server.app.inject({
          method: "POST",
          url: "/api/v1/auth/login",
          headers: { "x-forwarded-proto": "https" },
          payload: { username: "vic", password: "vic-secret-1" },
        });
        expect(res.statusCode).toBe(200);
        expect(setCookies(res.headers["set-cookie"]).get("updraft_session")?.attrs).toContain("Secure");
      } finally {
        await proxied.server.close();
      }
      // Without trust_proxy the header is ignored: a client cannot claim https.
      const { cookies } = await login("vic", "vic-secret-1", { "x-forwarded-proto": "https" });
      expect(cookies.get("updraft_session")?.attrs).not.toContain("Secure");
    });

    it("ends sessions on a password reset and when the user is disabled; a disabled user's token stops working", async () => {
      const first = await login("vic", "vic-secret-1");
      const cookie = { cookie: `updraft_session=${first.cookies.get("updraft_session")?.value}` };
      expect((await inject("GET", "/api/v1/dags", cookie)).statusCode).toBe(200);
      await resetPassword(getDb().db, "vic", "vic-secret-2");
      expect((await inject("GET", "/api/v1/dags", cookie)).statusCode).toBe(401);
      expect((await inject("GET", "/api/v1/dags", basic("vic", "vic-secret-1"))).statusCode).toBe(401);

      const second = await login("vic", "vic-secret-2");
      const cookie2 = { cookie: `updraft_session=${second.cookies.get("updraft_session")?.value}` };
      const { token } = await createApiToken(getDb().db, "vic");
      expect((await inject("GET", "/api/v1/dags", { authorization: `Bearer ${token}` })).statusCode).toBe(
        200,
      );
      await setActive(getDb().db, "vic", false);
      expect((await inject("GET", "/api/v1/dags", cookie2)).statusCode).toBe(401);
      expect((await inject("GET", "/api/v1/dags", { authorization: `Bearer ${token}` })).statusCode).toBe(
        401,
      );
      expect((await login("vic", "vic-secret-2")).res.statusCode).toBe(401);
      await setActive(getDb().db, "vic", true);
      expect((await inject("GET", "/api/v1/dags", { authorization: `Bearer ${token}` })).statusCode).toBe(
        200,
      );
      expect((await inject("GET", "/api/v1/dags", cookie2)).statusCode).toBe(401); // that session stays ended
    });

    it("refuses revoked and expired API tokens", async () => {
      const live = await createApiToken(getDb().db, "ann");
      const auth = { authorization: `Bearer ${live.token}` };
      expect((await inject("GET", "/api/v1/dags", auth)).statusCode).toBe(200);
      await revokeApiToken(getDb().db, live.id);
      const revoked = await inject("GET", "/api/v1/dags", auth);
      expect(revoked.statusCode).toBe(401);
      expect(revoked.json().detail).toContain("revoked or expired");
      const expired = await createApiToken(getDb().db, "ann", { expiresInS: -1 });
      expect(
        (await inject("GET", "/api/v1/dags", { authorization: `Bearer ${expired.token}` })).statusCode,
      ).toBe(401);
    });

    it("refuses the tutorial's `changeme` even when it is the stored password", async () => {
      await getDb()
        .db.insertInto("ab_user")
        .values({ username: "legacy", email: "legacy@example.com", password: await hashPassword("changeme") })
        .execute();
      const res = await inject("GET", "/api/v1/auth/me", basic("legacy", "changeme"));
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toContain("tutorial's example");
    });

    it("does not change state on GET: a session's expiry and the user's last login stay as they were", async () => {
      const { cookies } = await login("ann", "ann-secret-1");
      const before = await getDb().db.selectFrom("user_session").selectAll().orderBy("id").execute();
      const users = await getDb().db.selectFrom("ab_user").selectAll().orderBy("id").execute();
      await inject("GET", "/api/v1/dags", {
        cookie: `updraft_session=${cookies.get("updraft_session")?.value}`,
      });
      await inject("GET", "/api/v1/dags", basic("ann", "ann-secret-1"));
      expect(await getDb().db.selectFrom("user_session").selectAll().orderBy("id").execute()).toEqual(before);
      expect(await getDb().db.selectFrom("ab_user").selectAll().orderBy("id").execute()).toEqual(users);
    });

    describe("login rate limits", () => {
      it("answers 429 with Retry-After after 5 failures a minute for one user name, even with the right password", async () => {
        // A server of its own: the failures of the tests above count against this address.
        const fresh = await startTestServer(getDb());
        try {
          const attempt = (password: string, address: string) =>
            fresh.server.app.inject({
              method: "POST",
              url: "/api/v1/auth/login",
              remoteAddress: address,
              payload: { username: "ann", password },
            });
          for (let i = 0; i < 5; i++)
            expect((await attempt(`wrong-${i}`, `10.1.0.${i}`)).statusCode).toBe(401);
          const limited = await attempt("ann-secret-1", "10.1.0.99");
          expect(limited.statusCode).toBe(429);
          expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
          expect(Number(limited.headers["retry-after"])).toBeLessThanOrEqual(60);
          expect(limited.json().code).toBe("LOGIN_RATE_LIMITED");
          // Basic credentials count against the same limit.
          const viaBasic = await fresh.server.app.inject({
            method: "GET",
            url: "/api/v1/dags",
            remoteAddress: "10.1.0.98",
            headers: basic("ann", "ann-secret-1"),
          });
          expect(viaBasic.statusCode).toBe(429);
        } finally {
          await fresh.server.close();
        }
      });

      it("limits one address guessing across user names", async () => {
        const fresh = await startTestServer(getDb());
        try {
          const attempt = (username: string, address: string) =>
            fresh.server.app.inject({
              method: "POST",
              url: "/api/v1/auth/login",
              remoteAddress: address,
              payload: { username, password: "not-the-password" },
            });
          for (let i = 0; i < 5; i++) expect((await attempt(`nobody${i}`, "10.0.0.9")).statusCode).toBe(401);
          expect((await attempt("nobody-else", "10.0.0.9")).statusCode).toBe(429);
          expect((await attempt("nobody-else", "10.0.0.10")).statusCode).toBe(401);
        } finally {
          await fresh.server.close();
        }
      });
    });
  },
  { dialects: ["pglite", "postgres"] },
);
