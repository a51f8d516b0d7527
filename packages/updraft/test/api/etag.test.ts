// Conditional GETs for polling clients: a 200 GET carries an ETag, the same request with
// If-None-Match gets a bodiless 304 until the data changes; errors and non-GETs are never 304.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

withTestDatabases("ETags on REST GETs", (getDb) => {
  let t: TestServer;
  const req = (
    method: "GET" | "PATCH",
    url: string,
    headers: Record<string, string> = {},
    payload?: object,
  ) =>
    t.server.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${API_TOKEN}`, ...headers },
      ...(payload === undefined ? {} : { payload }),
    });

  beforeAll(async () => {
    await saveTestDag(getDb(), makeDag("etag_dag", [{ id: "a" }]));
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });

  it("answers 304 without a body while nothing changed, 200 with a new tag after a change", async () => {
    const first = await req("GET", "/api/v1/dags/etag_dag");
    const etag = first.headers["etag"] as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers["cache-control"]).toBe("private, no-cache");
    const same = await req("GET", "/api/v1/dags/etag_dag", { "if-none-match": etag });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe("");
    expect(
      (await req("GET", "/api/v1/dags/etag_dag", { "if-none-match": `W/${etag}, "other"` })).statusCode,
    ).toBe(304);
    const patched = await req(
      "PATCH",
      "/api/v1/dags/etag_dag",
      { "if-none-match": "*" },
      { is_paused: true },
    );
    expect(patched.statusCode).toBe(200);
    expect(patched.headers["etag"]).toBeUndefined();
    const changed = await req("GET", "/api/v1/dags/etag_dag", { "if-none-match": etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ is_paused: true });
    expect(changed.headers["etag"]).not.toBe(etag);
  });

  it("never turns an error into a 304", async () => {
    const missing = await req("GET", "/api/v1/dags/nope", { "if-none-match": "*" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["etag"]).toBeUndefined();
  });
});
