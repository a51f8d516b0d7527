// GET …/dependencies for a scheduled task instance whose task names an executor the API server's
// core.executor does not list (it changed after the parse; decision 0027): "Executor Configured"
// says the scheduler will not queue it. With the executor listed, nothing is said.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

const RUN = "manual__2024-05-01T00:00:00+00:00";
const url = (taskId: string) =>
  `/api/v1/dags/execs/dagRuns/${encodeURIComponent(RUN)}/taskInstances/${taskId}/dependencies`;

withTestDatabases("dependencies: a task's executor", (getDb) => {
  let database: Database;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    database = getDb();
    await saveTestDag(
      database,
      makeDag("execs", [{ id: "light" }, { id: "heavy", task: { executor: "KubernetesExecutor" } }]),
    );
    await triggerDagRun(
      database.db,
      { dagId: "execs", runId: RUN, logicalDate: "2024-05-01T00:00:00Z" },
      { events: null, defaultTimezone: "UTC" },
    );
    await database.db
      .updateTable("dag_run")
      .set({ state: "running" })
      .where("dag_id", "=", "execs")
      .execute();
    await database.db
      .updateTable("task_instance")
      .set({ state: "scheduled" })
      .where("dag_id", "=", "execs")
      .execute();
  });
  afterAll(async () => {
    for (const s of servers) await s.server.close();
  });

  async function deps(executorSetting: string, taskId: string) {
    const t = await startTestServer(database, {
      apiToken: API_TOKEN,
      overrides: { "core.executor": executorSetting },
    });
    servers.push(t);
    const res = await t.server.app.inject({
      method: "GET",
      url: url(taskId),
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { dependencies: { name: string; reason: string }[] }).dependencies;
  }

  it("the task instance row carries the task's executor; null for the default", async () => {
    const rows = await database.db
      .selectFrom("task_instance")
      .select(["task_id", "executor"])
      .where("dag_id", "=", "execs")
      .orderBy("task_id")
      .execute();
    expect(rows).toEqual([
      { task_id: "heavy", executor: "KubernetesExecutor" },
      { task_id: "light", executor: null },
    ]);
  });

  it("explains a task naming an executor core.executor does not list", async () => {
    expect(await deps("LocalExecutor", "heavy")).toEqual([
      {
        name: "Executor Configured",
        reason: expect.stringContaining(
          'names the executor "KubernetesExecutor", which core.executor (LocalExecutor) does not list',
        ) as unknown as string,
      },
    ]);
    expect(await deps("LocalExecutor", "light")).toEqual([]);
    expect(await deps("LocalExecutor,KubernetesExecutor", "heavy")).toEqual([]);
  });
});
