// Every cell of the route × role matrix: each role reaches exactly the routes Airflow's FAB
// roles would let it reach (airflow/providers/fab/auth_manager/security_manager/override.py:
// VIEWER_PERMISSIONS, USER_PERMISSIONS, OP_PERMISSIONS, ADMIN_PERMISSIONS, ROLE_CONFIGS). The
// expectation is written here from the roles' meaning, not read from the permission table, so a
// wrong entry in the table fails a cell. Routes come from Fastify's own list.
import { afterAll, beforeAll, expect, it } from "vitest";
import { PUBLIC_ROUTES, routeKey, EXECUTION_PREFIX } from "../../src/api/auth/public-routes.js";
import { ROUTE_PERMISSIONS } from "../../src/api/auth/permissions.js";
import { withTestDatabases } from "../db-testing.js";
import { makeDag, saveTestDag, seedUserWithToken, startTestServer, type TestServer } from "./helpers.js";

const ROLES = ["Viewer", "User", "Op", "Admin"] as const;
type Role = (typeof ROLES)[number];

/** The least role that may call a route, from what Airflow's roles mean. */
function leastRole(method: string, url: string): Role {
  const reads = method === "GET" || method === "HEAD";
  // Admin: users, roles, permissions, and running any CLI command in the server.
  if (/^\/api\/v1\/(users|roles|permissions|cli)\b/.test(url)) return "Admin";
  // Op: variables and connections (also to read them), and changing pools.
  if (/^\/api\/v1\/(variables|connections)\b/.test(url)) return "Op";
  // Op: reading the configuration (Airflow's can_read on Configurations).
  if (/^\/api\/v1\/config\b/.test(url)) return "Op";
  if (/^\/api\/v1\/pools\b/.test(url)) return reads ? "Viewer" : "Op";
  // The QueueExecutor's workers: read as pools are; forgetting one is an operator's act.
  if (/^\/api\/v1\/workers\b/.test(url)) return reads ? "Viewer" : "Op";
  // Assets: read by a Viewer; creating an event by hand (it starts consumer runs) is an Op's.
  if (/^\/api\/v1\/assets\b/.test(url)) return reads ? "Viewer" : "Op";
  // Everyone may see and end their own login.
  if (url.startsWith("/api/v1/auth/")) return "Viewer";
  // A batch list is a read sent as POST (Airflow's get_dag_runs_batch needs can_read on runs).
  if (url.endsWith("/list")) return "Viewer";
  // Viewer reads DAGs, runs, task instances, logs, import errors; User changes DAGs, runs, TIs.
  return reads ? "Viewer" : "User";
}

const rank = (r: Role): number => ROLES.indexOf(r);

function concrete(pattern: string): string {
  return pattern.replace(/:[A-Za-z_]+/g, "x").replace(/\*/g, "x");
}

withTestDatabases(
  "permission matrix",
  (getDb) => {
    let t: TestServer;
    beforeAll(async () => {
      await saveTestDag(getDb(), makeDag("x", [{ id: "a" }]));
      for (const role of ROLES)
        await seedUserWithToken(getDb(), `m-${role.toLowerCase()}`, role, `token-${role}`);
      // The configuration is exposed, so that its routes answer by role rather than by setting.
      t = await startTestServer(getDb(), { overrides: { "webserver.expose_config": "non-sensitive-only" } });
      // Standalone's CLI route, and one route nobody put in the permission table.
      t.server.app.post("/api/v1/cli", async () => ({ stdout: "", stderr: "", exit_code: 0 }));
      t.server.app.get("/api/v1/unlisted", async () => ({ secret: true }));
      await t.server.app.ready();
    });
    afterAll(async () => {
      await t.server.close();
    });

    it("allows and refuses each role on each route as Airflow's roles do", async () => {
      const routes = t.server.routes.filter(
        (r) =>
          !r.url.startsWith(EXECUTION_PREFIX) &&
          !PUBLIC_ROUTES.has(routeKey(r.method, r.url)) &&
          r.url !== "/api/v1/unlisted",
      );
      expect(routes.length).toBeGreaterThan(30);
      const wrong: string[] = [];
      let cells = 0;
      for (const route of routes) {
        for (const role of ROLES) {
          const res = await t.server.app.inject({
            method: route.method as "GET",
            url: concrete(route.url),
            headers: { authorization: `Bearer token-${role}` },
            ...(route.method === "POST" || route.method === "PATCH" ? { payload: {} } : {}),
          });
          cells++;
          const allowed = rank(role) >= rank(leastRole(route.method, route.url));
          const refused = res.statusCode === 403;
          if (allowed === refused) {
            wrong.push(
              `${role} ${route.method} ${route.url}: ${res.statusCode}, expected ${allowed ? "not 403" : "403"}`,
            );
          }
          if (refused && route.method !== "HEAD") {
            expect(res.json().code).toBe("FORBIDDEN");
            expect(res.json().detail).toMatch(/lacks the permission [a-z_]+:[a-z]+/);
          }
        }
      }
      expect(wrong).toEqual([]);
      expect(cells).toBe(routes.length * ROLES.length);
    });

    it("refuses a route missing from the permission table to everyone, Admin included", async () => {
      for (const role of ROLES) {
        const res = await t.server.app.inject({
          method: "GET",
          url: "/api/v1/unlisted",
          headers: { authorization: `Bearer token-${role}` },
        });
        expect(res.statusCode).toBe(403);
        expect(res.json().detail).toContain("not in the API's permission table");
      }
    });

    it("has no table entry for a route that does not exist", () => {
      const registered = new Set(t.server.routes.map((r) => routeKey(r.method, r.url)));
      expect(Object.keys(ROUTE_PERMISSIONS).filter((k) => !registered.has(k))).toEqual([]);
    });

    it("names the missing permission and the user's roles in a 403", async () => {
      const res = await t.server.app.inject({
        method: "GET",
        url: "/api/v1/variables",
        headers: { authorization: "Bearer token-Viewer" },
      });
      expect(res.statusCode).toBe(403);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      expect(res.json()).toMatchObject({ details: { permission: "variables:read", roles: ["Viewer"] } });
      expect(res.json().detail).toContain(
        'User "m-viewer" with role(s) Viewer lacks the permission variables:read',
      );
    });
  },
  { dialects: ["pglite"] },
);
