// Bad input on every REST route, derived from the routes the server registers (a route added later
// is covered without anyone remembering it): malformed JSON, bodies of the wrong type, unknown
// fields, a 10 MB body, NUL and `../` in every path parameter, absurd paging. Each answers a 4xx
// problem+json (never a 500 or a hang), and the database is exactly as it was before, row for row.
import { afterAll, beforeAll, expect, it } from "vitest";
import { publicRoutes } from "../../src/api/openapi.js";
import type { Database } from "../../src/db/index.js";
import { sql } from "kysely";
import { withTestDatabases } from "../db-testing.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  startTestServer,
  type TestServer,
  triggerTestRun,
} from "./helpers.js";

const RUN = "manual__2024-05-01T00:00:00+00:00";
/** A valid value for each path parameter, so that only the part under test is wrong. */
const VALID: Record<string, string> = {
  dag_id: "bad_input_dag",
  dag_run_id: RUN,
  task_id: "a",
  map_index: "0",
  try_number: "1",
  xcom_key: "return_value",
  pool_name: "default_pool",
  variable_key: "v1",
  key: "v1",
  connection_id: "c1",
  event_log_id: "1",
  import_error_id: "1",
  username: "test-admin",
  role_name: "Viewer",
  file_token: "x",
  section: "core",
  option: "dags_folder",
};
const ALLOWED = new Set([400, 404, 405, 409, 413, 415, 422]);
/** Routes whose body is not a resource change: logging in and out, and standalone's CLI. */
const NOT_RESOURCES = new Set(["POST /api/v1/auth/login", "POST /api/v1/auth/logout"]);

/** Every row of every table, as text: equal snapshots mean nothing changed. */
async function snapshot(database: Database): Promise<Record<string, string>> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
    ORDER BY table_name`.execute(database.db);
  const out: Record<string, string> = {};
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ h: string | null }>`
      SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h FROM ${sql.table(table_name)} t`.execute(
      database.db,
    );
    out[table_name] = rows.rows[0]?.h ?? "";
  }
  return out;
}

function fill(url: string, override: Record<string, string> = {}): string {
  return url.replace(/:([A-Za-z_]+)/g, (_, name: string) =>
    encodeURIComponent(override[name] ?? VALID[name] ?? "x"),
  );
}

withTestDatabases("bad input on every route", (getDb) => {
  let t: TestServer;
  let before: Record<string, string>;
  const failures: string[] = [];

  const send = async (
    label: string,
    method: string,
    url: string,
    body?: { raw: string | Buffer },
  ): Promise<number> => {
    const res = await t.server.app.inject({
      method: method as "POST",
      url,
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { payload: body.raw }),
    });
    if (!ALLOWED.has(res.statusCode))
      failures.push(`${label}: ${method} ${url} → ${res.statusCode} ${res.body.slice(0, 200)}`);
    else if (!String(res.headers["content-type"]).includes("application/problem+json"))
      failures.push(`${label}: ${method} ${url} → ${res.statusCode} without problem+json`);
    return res.statusCode;
  };

  beforeAll(async () => {
    const database = getDb();
    await saveTestDag(database, makeDag("bad_input_dag", [{ id: "a" }, { id: "b", upstream: ["a"] }]));
    t = await startTestServer(database, { apiToken: API_TOKEN });
    await triggerTestRun(database, "bad_input_dag", "2024-05-01T00:00:00Z");
    await database.db.insertInto("variable").values({ key: "v1", val: "x" }).execute();
    await t.server.app.ready();
    before = await snapshot(database);
  });
  afterAll(async () => {
    await t.server.close();
  });

  const changing = () =>
    publicRoutes(t.server.app).filter(
      (r) =>
        ["POST", "PATCH", "PUT", "DELETE"].includes(r.method) && !NOT_RESOURCES.has(`${r.method} ${r.url}`),
    );

  it("refuses malformed JSON, bodies of the wrong type and unknown fields on every route that changes state", async () => {
    const routes = changing().filter((r) => r.method !== "DELETE");
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes) {
      const url = fill(r.url);
      expect(await send("malformed JSON", r.method, url, { raw: '{"a": ' })).toBe(400);
      for (const wrong of ["[1, 2]", '"text"', "42", "null"])
        await send(`wrong type ${wrong}`, r.method, url, { raw: wrong });
      await send("unknown field", r.method, url, { raw: JSON.stringify({ __unknown_field__: true }) });
      await send("deep nesting", r.method, url, { raw: "[".repeat(5000) + "]".repeat(5000) });
    }
    expect(failures).toEqual([]);
  });

  it("refuses a 10 MB body with 413 without reading it whole", async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, "a");
    const body = Buffer.concat([Buffer.from('{"value": "'), big, Buffer.from('"}')]);
    for (const r of changing()
      .filter((x) => x.method !== "DELETE")
      .slice(0, 6))
      expect(await send("10 MB body", r.method, fill(r.url), { raw: body })).toBe(413);
    expect(failures).toEqual([]);
  });

  it("refuses NUL, `../` and over-long values in every path parameter of every route", async () => {
    const all = publicRoutes(t.server.app).filter((r) => /:[A-Za-z_]+/.test(r.url));
    expect(all.length).toBeGreaterThan(20);
    for (const r of all) {
      for (const name of [...r.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!)) {
        for (const bad of ["a\u0000b", "../../../../etc/passwd", "..", "x".repeat(2000)]) {
          const body = ["POST", "PATCH", "PUT"].includes(r.method) ? { raw: "{}" } : undefined;
          await send(
            `${name}=${JSON.stringify(bad.slice(0, 20))}`,
            r.method,
            fill(r.url, { [name]: bad }),
            body,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("pages absurd limits and refuses nonsense ones", async () => {
    for (const q of [
      "limit=99999999999999999999",
      "limit=1e400",
      "offset=1e400",
      "limit=-1",
      "limit=abc",
      "offset=-5",
    ]) {
      const res = await t.server.app.inject({
        method: "GET",
        url: `/api/v1/dags?${q}`,
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect([200, 400], q).toContain(res.statusCode);
      if (res.statusCode === 200)
        expect(res.json<{ dags: unknown[] }>().dags.length).toBeLessThanOrEqual(100);
    }
  });

  it("left every table exactly as it was", async () => {
    expect(await snapshot(getDb())).toEqual(before);
  });
});
