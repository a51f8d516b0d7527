import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { triggerDagRun } from "../../src/services/index.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

const DAG = makeDag("log_dag", [{ id: "a" }]);

withTestDatabases("task logs", (getDb) => {
  let t: TestServer;
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  beforeAll(async () => {
    await saveTestDag(getDb(), DAG);
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });

  /** A run whose task `a` had one try, and whose log holds `text`, written where the runner writes it. */
  async function runWithLog(runId: string, text: string): Promise<void> {
    await triggerDagRun(getDb().db, { dagId: "log_dag", runId });
    await getDb()
      .db.updateTable("task_instance")
      .set({ try_number: 1 })
      .where("run_id", "=", runId)
      .where("task_id", "=", "a")
      .execute();
    const key = { dag_id: "log_dag", run_id: runId, task_id: "a", map_index: -1 };
    const file = join(t.config.logging.base_log_folder, taskLogRelativePath(key, 1));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }

  const logOf = (runId: string) =>
    t.server.app.inject({
      method: "GET",
      url: `/api/v1/dags/log_dag/dagRuns/${encodeURIComponent(runId)}/taskInstances/a/logs/1`,
      headers: auth,
    });

  it("shows each run its own log, also for run ids that once shared a log folder (x~1, x_1)", async () => {
    await runWithLog("x~1", "log of x~1\n");
    await runWithLog("x_1", "log of x_1\n");
    const tilde = await logOf("x~1");
    const underscore = await logOf("x_1");
    expect(tilde.statusCode).toBe(200);
    expect(tilde.json()).toEqual({ content: "log of x~1\n", continuation_token: null });
    expect(underscore.statusCode).toBe(200);
    expect(underscore.json()).toEqual({ content: "log of x_1\n", continuation_token: null });
  });

  it("serves a large log in chunks that never split a character, and as streamed plain text", async () => {
    // 1 MiB chunks: "é" is two bytes, so the first chunk boundary falls inside one unless handled.
    const text = `a${"é".repeat(700_000)}\nend\n`;
    await runWithLog("big", text);
    const url = `/api/v1/dags/log_dag/dagRuns/big/taskInstances/a/logs/1`;
    const first = await t.server.app.inject({ method: "GET", url, headers: auth });
    const body = first.json<{ content: string; continuation_token: string | null }>();
    expect(Buffer.byteLength(body.content)).toBeLessThanOrEqual(1024 * 1024);
    expect(body.content).not.toContain("\uFFFD");
    expect(body.continuation_token).not.toBeNull();
    const rest = await t.server.app.inject({
      method: "GET",
      url: `${url}?token=${body.continuation_token ?? ""}`,
      headers: auth,
    });
    // The try has ended (it is not running): the last chunk says there is nothing more.
    expect(rest.json().continuation_token).toBeNull();
    expect(body.content + rest.json<{ content: string }>().content).toBe(text);
    const plain = await t.server.app.inject({
      method: "GET",
      url,
      headers: { ...auth, accept: "text/plain" },
    });
    expect(plain.headers["content-type"]).toContain("text/plain");
    expect(plain.body).toBe(text);
    const bad = await t.server.app.inject({ method: "GET", url: `${url}?token=bm9wZQ`, headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toContain("continuation_token");
  });

  it("gives a smaller first chunk on request (max_bytes), the rest with the token", async () => {
    const text = `${"line of the log\n".repeat(10_000)}end\n`;
    await runWithLog("small_first", text);
    const url = `/api/v1/dags/log_dag/dagRuns/small_first/taskInstances/a/logs/1`;
    const first = await t.server.app.inject({ method: "GET", url: `${url}?max_bytes=4096`, headers: auth });
    const body = first.json<{ content: string; continuation_token: string }>();
    expect(Buffer.byteLength(body.content)).toBe(4096);
    const rest = await t.server.app.inject({
      method: "GET",
      url: `${url}?token=${body.continuation_token}`,
      headers: auth,
    });
    expect(body.content + rest.json<{ content: string }>().content).toBe(text);
    for (const bad of ["10", "2000000", "x"]) {
      const res = await t.server.app.inject({ method: "GET", url: `${url}?max_bytes=${bad}`, headers: auth });
      expect(res.statusCode, bad).toBe(400);
    }
  });

  it("keeps giving a token while the try still runs, for tailing", async () => {
    await runWithLog("live", "line 1\n");
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: "running" })
      .where("run_id", "=", "live")
      .execute();
    const url = `/api/v1/dags/log_dag/dagRuns/live/taskInstances/a/logs/1`;
    const first = (await t.server.app.inject({ method: "GET", url, headers: auth })).json();
    expect(first.content).toBe("line 1\n");
    const key = { dag_id: "log_dag", run_id: "live", task_id: "a", map_index: -1 };
    writeFileSync(join(t.config.logging.base_log_folder, taskLogRelativePath(key, 1)), "line 1\nline 2\n");
    const next = (
      await t.server.app.inject({
        method: "GET",
        url: `${url}?token=${first.continuation_token}`,
        headers: auth,
      })
    ).json();
    expect(next.content).toBe("line 2\n");
    expect(next.continuation_token).not.toBeNull();
  });
});
