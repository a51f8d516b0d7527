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
});
