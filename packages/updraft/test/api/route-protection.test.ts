// The production layout of the README (`updraft api-server` on PostgreSQL, as a real child
// process) answers no route without credentials. The routes are Fastify's own list of what the
// server registers (collected by an onRoute hook), so a route added later without protection
// fails this test without anyone remembering to add it here.
import { afterAll, beforeAll, expect, test } from "vitest";
import { createApiServer } from "../../src/api/index.js";
import { PUBLIC_ROUTES, routeKey } from "../../src/api/auth/public-routes.js";
import { loadConfig } from "../../src/config/index.js";
import { openMemoryDatabase } from "../../src/db/index.js";
import { tempDir } from "../helpers.js";
import { Cluster, describeWithPostgres, SECRET } from "../reliability/harness.js";

/** A concrete URL for a route pattern: every parameter and wildcard filled in. */
function concrete(pattern: string): string {
  return pattern.replace(/:[A-Za-z_]+/g, "x").replace(/\*/g, "x");
}

/** The routes `updraft api-server` registers: the same createApiServer, built in this process. */
async function registeredRoutes(): Promise<{ method: string; url: string }[]> {
  const database = await openMemoryDatabase(tempDir());
  try {
    const config = loadConfig({ home: tempDir(), env: {} });
    const server = createApiServer({ database, config, events: null, secretKey: SECRET });
    await server.app.ready();
    const routes = [...server.routes];
    await server.close();
    return routes;
  } finally {
    await database.close();
  }
}

await describeWithPostgres("route protection of `updraft api-server`", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.create();
    await cluster.startApiServer();
  }, 90_000);
  afterAll(async () => {
    await cluster?.close();
  });

  test("every registered route but the public ones answers 401 problem+json without credentials", async () => {
    const routes = await registeredRoutes();
    // Sanity: the list is Fastify's, with the REST API, the execution API and health in it.
    const keys = routes.map((r) => routeKey(r.method, r.url));
    for (const known of [
      "GET /api/v1/dags",
      "DELETE /api/v1/connections/:connection_id",
      "POST /execution/ti/start",
      "GET /health",
    ])
      expect(keys).toContain(known);
    expect(routes.length).toBeGreaterThan(30);

    const checked: string[] = [];
    for (const route of routes) {
      const key = routeKey(route.method, route.url);
      const url = `${cluster.apiUrl}${concrete(route.url)}`;
      const withBody = route.method === "POST" || route.method === "PATCH" || route.method === "PUT";
      const attempts: Record<string, string>[] = [
        {},
        { authorization: "Bearer wrong-token" },
        { authorization: "Basic YWRtaW46YWRtaW4=" },
      ];
      for (const headers of attempts) {
        const res = await fetch(url, {
          method: route.method,
          headers: { ...headers, ...(withBody ? { "content-type": "application/json" } : {}) },
          ...(withBody ? { body: "{}" } : {}),
        });
        if (PUBLIC_ROUTES.has(key)) {
          expect(res.status, key).not.toBe(401);
          continue;
        }
        // A wrong password counts against the login limit: after 5 failures from this address
        // the answer is 429 (with Retry-After), still refusing.
        const expected = headers.authorization?.startsWith("Basic") === true ? [401, 429] : [401];
        expect(expected, `${key} with ${JSON.stringify(headers)}: ${res.status}`).toContain(res.status);
        if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(res.headers.get("content-type"), key).toContain("application/problem+json");
        if (route.method === "HEAD") continue; // no body, by HTTP's rules
        const body = (await res.json()) as { status: number; detail: string };
        expect(body.status).toBe(res.status);
        expect(body.detail.length, key).toBeGreaterThan(10);
      }
      checked.push(key);
    }
    expect(checked.length).toBe(routes.length);

    // Unknown routes need credentials too: nothing can be probed without them.
    const unknown = await fetch(`${cluster.apiUrl}/api/v1/no-such-route`);
    expect(unknown.status).toBe(401);
  }, 120_000);
});
