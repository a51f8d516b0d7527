// A try whose body finished while the API server was down (a standalone killed and restarted)
// keeps its result: the runner retries its report until the restarted server accepts it, instead
// of giving up after a few seconds and leaving the try to be timed out and run again.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApiServer, type ApiServer } from "../../src/api/index.js";
import type { Database } from "../../src/db/index.js";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import { openTestPGlite } from "../db-testing.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { SECRET, startExecutionApi, type ExecutionApiHarness } from "./execution-api-harness.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/runner_dags.ts", import.meta.url));
const RUN = "manual__2026-02-01T00:00:00+00:00";
/** Longer than the runner used to retry a report (200 + 1,000 + 3,000 + 10,000 ms). */
const DOWN_MS = 16_000;

let database: Database;
let api: ExecutionApiHarness;
let executor: LocalExecutor;
let restarted: ApiServer | null = null;

beforeAll(async () => {
  if (!existsSync(join(PACKAGE_ROOT, "dist", "runner", "main.js")))
    throw new Error("Run `npm run build` first: the runner is forked from dist/runner/main.js.");
  const home = tempDir("updraft-api-restart-");
  database = await openTestPGlite();
  api = await startExecutionApi(database, { home, heartbeatIntervalS: 5 });
  await api.loadDagFile(DAG_FILE);
  await api.triggerRun("faults", RUN, "2026-02-01T00:00:00Z");
  executor = new LocalExecutor({ parallelism: 1, env: { ...process.env, UPDRAFT_HOME: home } });
  await executor.start();
}, 60_000);

afterAll(async () => {
  await executor?.stop({ graceful: false, timeoutMs: 2000 });
  await restarted?.close();
  await database?.close();
  cleanupTempDirs();
});

it("records a result reported while the API server restarts", async () => {
  const key = { dag_id: "faults", run_id: RUN, task_id: "naps", map_index: -1 };
  const w = await api.queueTry(key, DAG_FILE);
  const finished = new Promise<ExecutorEvent>((resolve) => executor.onEvent(resolve));
  executor.queueWorkload(w);
  for (;;) {
    if ((await api.ti(key)).state === "running") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const port = Number(new URL(api.url).port);
  // The body (300 ms) ends while the server is down.
  await api.close();
  await new Promise((r) => setTimeout(r, DOWN_MS));
  expect((await api.ti(key)).state).toBe("running");
  restarted = createApiServer({ database, config: api.config, events: null, secretKey: SECRET });
  await restarted.listen(port, "127.0.0.1");
  expect(await finished).toMatchObject({ type: "finished", state: "success" });
  expect(await api.ti(key)).toMatchObject({ state: "success", try_number: 1 });
  expect(await api.historyOf(key, 1)).toMatchObject({ state: "success" });
}, 60_000);
