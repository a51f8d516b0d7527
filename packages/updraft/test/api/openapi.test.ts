// The OpenAPI document is generated from the routes' own zod schemas. These tests check that it
// lists every public route, and that every route has an Airflow operationId and declares its
// responses (which the server then validates on every reply).
import { afterAll, beforeAll, expect, it } from "vitest";
import { publicRoutes } from "../../src/api/openapi.js";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, startTestServer, type TestServer } from "./helpers.js";

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
};

withTestDatabases(
  "OpenAPI document",
  (getDb) => {
    let t: TestServer;
    let doc: Doc;
    beforeAll(async () => {
      t = await startTestServer(getDb(), { apiToken: API_TOKEN });
      const res = await t.server.app.inject({
        method: "GET",
        url: "/api/v1/openapi.json",
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(res.statusCode).toBe(200);
      doc = res.json<Doc>();
    });
    afterAll(async () => {
      await t.server.close();
    });

    it("is OpenAPI 3.1 with the package's version", () => {
      expect(doc.openapi).toBe("3.1.0");
      expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    });

    it("lists every public route and no execution-API route", () => {
      const routes = publicRoutes(t.server.app);
      expect(routes.length).toBeGreaterThan(20);
      for (const r of routes) {
        const path = r.url.replace(/:([A-Za-z_]+)/g, "{$1}");
        expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
      }
      expect(Object.keys(doc.paths).filter((p) => p.startsWith("/execution"))).toEqual([]);
    });

    it("gives every route a unique operationId and its success response", () => {
      const ids = new Set<string>();
      for (const r of publicRoutes(t.server.app)) {
        const key = `${r.method} ${r.url}`;
        expect(r.described, `${key} declares no response schema`).toBe(true);
        const op = doc.paths[r.url.replace(/:([A-Za-z_]+)/g, "{$1}")]?.[r.method.toLowerCase()];
        expect(op?.operationId, key).toMatch(/^[a-z_]+$/);
        expect(ids.has(op?.operationId ?? ""), `duplicate operationId ${op?.operationId}`).toBe(false);
        ids.add(op?.operationId ?? "");
        expect(
          Object.keys(op?.responses ?? {}).some((s) => /^2\d\d$/.test(s)),
          key,
        ).toBe(true);
      }
    });

    it("reports a request that fails a route's schema as problem+json naming the field", async () => {
      const bad = await t.server.app.inject({
        method: "POST",
        url: "/api/v1/pools",
        headers: { authorization: `Bearer ${API_TOKEN}` },
        payload: { name: "p", slots: "many" },
      });
      expect(bad.statusCode).toBe(422);
      expect(bad.headers["content-type"]).toContain("application/problem+json");
      expect(bad.json()).toMatchObject({ status: 422, code: "REQUEST_INVALID" });
      expect(bad.json<{ detail: string }>().detail).toContain("slots");
      const query = await t.server.app.inject({
        method: "GET",
        url: "/api/v1/variables?limit=-3",
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(query.statusCode).toBe(400);
      expect(query.json()).toMatchObject({ code: "PARAMETER_INVALID" });
      expect(query.json<{ detail: string }>().detail).toContain("limit");
    });

    it("answers /api/v1/version without credentials", async () => {
      const res = await t.server.app.inject({ method: "GET", url: "/api/v1/version" });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ version: doc.info.version, git_version: null });
    });
  },
  { dialects: ["postgres"] },
);
