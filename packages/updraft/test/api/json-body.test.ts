import { afterAll, beforeAll, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/api/json-body.js";
import { withTestDatabases } from "../db-testing.js";
import type { TaskInstanceKey } from "../../src/model/execution-api.js";
import { triggerDagRun } from "../../src/services/index.js";
import { API_TOKEN, makeDag, queueTi, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

const DAG = makeDag("json_dag", [{ id: "push" }]);

/** `{"a":{"a":…1…}}`, `levels` objects deep. */
function nested(levels: number, leaf = "1"): string {
  return `${'{"a":'.repeat(levels)}${leaf}${"}".repeat(levels)}`;
}

/** `[[[…]]]` mixed with objects and strings holding brackets, which must not count. */
function nestedMixed(levels: number): string {
  let s = '"[{\\"]}"';
  for (let i = 0; i < levels; i++) s = i % 2 === 0 ? `[${s}, "{["]` : `{"k[": ${s}}`;
  return s;
}

withTestDatabases("JSON request bodies", (getDb) => {
  let t: TestServer;
  let ti: TaskInstanceKey;
  let xcomAuth: { authorization: string };
  const rest = { authorization: `Bearer ${API_TOKEN}` };
  beforeAll(async () => {
    await saveTestDag(getDb(), DAG);
    t = await startTestServer(getDb(), { apiToken: API_TOKEN, xcomMaxSize: 65_536 });
    await triggerDagRun(getDb().db, { dagId: DAG.dag_id, runId: "r1" });
    ti = { dag_id: DAG.dag_id, run_id: "r1", task_id: "push", map_index: -1 };
    xcomAuth = (await queueTi(getDb(), ti)).auth;
    const start = await post("/execution/ti/start", xcomAuth, JSON.stringify({ hostname: "h", pid: 1 }));
    expect(start.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.server.close();
  });

  const post = (url: string, headers: Record<string, string>, body: string) =>
    t.server.app.inject({
      method: "POST",
      url,
      headers: { ...headers, "content-type": "application/json" },
      payload: body,
    });

  function expectTooDeep(res: Awaited<ReturnType<typeof post>>): void {
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    const body = res.json();
    expect(body).toMatchObject({ status: 422, code: "BODY_TOO_DEEP" });
    expect(body.detail).toContain(`${MAX_JSON_DEPTH}`);
  }

  it("refuses a 5,000-level XCom with 422 BODY_TOO_DEEP, not a 500", async () => {
    expectTooDeep(await post("/execution/xcom", xcomAuth, `{"key":"deep","value":${nested(5000)}}`));
    expectTooDeep(await post("/execution/xcom", xcomAuth, `{"key":"deep","value":${nestedMixed(5000)}}`));
  });

  it("refuses 5,000-level bodies on REST routes too", async () => {
    expectTooDeep(await post("/api/v1/variables", rest, `{"key":"k","value":${nested(5000, '"v"')}}`));
    expectTooDeep(await post(`/api/v1/dags/${DAG.dag_id}/dagRuns`, rest, `{"conf":${nested(5000)}}`));
    expectTooDeep(await post(`/api/v1/dags/${DAG.dag_id}/dagRuns`, rest, nestedMixed(5000)));
  });

  it("refuses a deep body on a route whose schema has no room for one", async () => {
    expectTooDeep(await post("/execution/ti/heartbeat", xcomAuth, nested(5000)));
  });

  it("accepts values nested up to the limit", async () => {
    const xcom = await post("/execution/xcom", xcomAuth, `{"key":"twenty","value":${nested(20)}}`);
    expect(xcom.statusCode).toBe(204);
    const row = await getDb()
      .db.selectFrom("xcom")
      .select("value")
      .where("run_id", "=", "r1")
      .where("key", "=", "twenty")
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row.value)).toBe(nested(20));
    // The body's own object is one level, so the value may have MAX_JSON_DEPTH - 1.
    const atLimit = await post(
      "/execution/xcom",
      xcomAuth,
      `{"key":"limit","value":${nested(MAX_JSON_DEPTH - 1)}}`,
    );
    expect(atLimit.statusCode).toBe(204);
    expectTooDeep(
      await post("/execution/xcom", xcomAuth, `{"key":"over","value":${nested(MAX_JSON_DEPTH)}}`),
    );
    const run = await post(
      `/api/v1/dags/${DAG.dag_id}/dagRuns`,
      rest,
      `{"dag_run_id":"r2","conf":${nested(20)}}`,
    );
    expect(run.statusCode).toBe(200);
    expect(JSON.stringify(run.json().conf)).toBe(nested(20));
  });

  it("still answers 413 naming the task for an XCom body over twice core.xcom_max_size", async () => {
    const res = await post(
      "/execution/xcom",
      xcomAuth,
      JSON.stringify({ key: "big", value: "x".repeat(200_000) }),
    );
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: "XCOM_TOO_LARGE" });
    expect(res.json().detail).toContain('"push"');
  });

  it("answers 413 for a REST body over the limit, and 400 for malformed JSON", async () => {
    const big = await post(
      "/api/v1/variables",
      rest,
      JSON.stringify({ key: "k", value: "x".repeat(2_000_000) }),
    );
    expect(big.statusCode).toBe(413);
    expect(big.headers["content-type"]).toContain("application/problem+json");
    const bad = await post("/api/v1/variables", rest, '{"key": "k", ');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toContain("application/problem+json");
    const empty = await post("/api/v1/variables", rest, "");
    expect(empty.statusCode).toBe(400);
    const poisoned = await post("/api/v1/variables", rest, '{"key":"k","value":"v","__proto__":{"x":1}}');
    expect(poisoned.statusCode).toBe(400);
  });
});
