// Airflow-style templates rendered by a real runner process (forked from dist/runner/main.js)
// against the real API server on PGlite: variables and connections come from the server, the DAG's
// own macros, filters and render_template_as_native_obj from the DAG file the runner loads.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import type { TaskInstanceKey, Workload } from "../../src/model/execution-api.js";
import { openTestPGlite } from "../db-testing.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { API_TOKEN } from "../api/helpers.js";
import { startExecutionApi, type ExecutionApiHarness } from "./execution-api-harness.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/template_dags.ts", import.meta.url));
const RUNNER = join(PACKAGE_ROOT, "dist", "runner", "main.js");
const RUN = "manual__2026-01-05T00:00:00+00:00";
const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let database: Database;
let api: ExecutionApiHarness;
let executor: LocalExecutor;
const events: ExecutorEvent[] = [];

const key = (taskId: string): TaskInstanceKey => ({
  dag_id: "templated",
  run_id: RUN,
  task_id: taskId,
  map_index: -1,
});

async function run(taskId: string) {
  const k = key(taskId);
  const w: Workload = await api.queueTry(k, DAG_FILE, {});
  executor.queueWorkload(w);
  const deadline = Date.now() + 20_000;
  while (!events.some((e) => e.kind === w.kind && e.ti.task_id === taskId && e.try_number === w.try_number)) {
    if (Date.now() > deadline) throw new Error(`no event for ${taskId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { ti: await api.ti(k), log: existsSync(w.log_path) ? readFileSync(w.log_path, "utf8") : "" };
}

async function restPost(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${api.url}/api/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

beforeAll(async () => {
  if (!existsSync(RUNNER))
    throw new Error("Run `npm run build` first: the runner is forked from dist/runner/main.js.");
  const home = tempDir("updraft-templates-");
  database = await openTestPGlite();
  api = await startExecutionApi(database, { home });
  await api.loadDagFile(DAG_FILE);
  await api.triggerRun("templated", RUN, "2026-01-05T00:00:00Z", { who: "ada" });
  await restPost("/variables", { key: "cfg", value: JSON.stringify({ ids: [3, 4] }) });
  await restPost("/connections", {
    connection_id: "warehouse",
    conn_type: "postgres",
    host: "db.internal",
    extra: JSON.stringify({ sslmode: "require" }),
  });
  executor = new LocalExecutor({
    parallelism: 1,
    env: { ...process.env, UPDRAFT_HOME: home },
    logger: quiet,
  });
  executor.onEvent((e) => events.push(e));
  await executor.start();
}, 60_000);

afterAll(async () => {
  await executor?.stop({ graceful: false, timeoutMs: 2000 });
  await api?.close();
  await database?.close();
  cleanupTempDirs();
});

describe("templates in a real task run", () => {
  // airflow/models/dag.py: DAG(render_template_as_native_obj, user_defined_macros, user_defined_filters)
  it("renders params.get, var.json, conn extra_dejson, the DAG's macros and filters as native values", async () => {
    const { ti } = await run("collect");
    expect(ti.state).toBe("success");
    expect(await api.xcom(key("collect"))).toEqual({
      limit: 10,
      ids: [3, 4],
      sslmode: "require",
      where: "s3://lake/2026-01-05/eu-west-1",
      label: "daily_report",
      // 20260105T000000+0000 is not a Python literal (20260105T000000 is no number), so it stays text.
      stamp: "20260105T000000+0000",
      types: ["number", "array", "string"],
    });
  });

  it("renders a BashOperator's Airflow-style template", async () => {
    const { ti, log } = await run("echo");
    expect(ti.state).toBe("success");
    expect(log).toMatch(/\[task\] ada fb 2026-01-06 db\.internal$/m);
  });

  it("fails a task whose template reads a missing variable, saying how to create it", async () => {
    const { ti, log } = await run("missing");
    expect(ti.state).toBe("failed");
    expect(log).toContain(
      'Variable "nope" does not exist. Create it with `updraft variables set nope VALUE`',
    );
  });
});
