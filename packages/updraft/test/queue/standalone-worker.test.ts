// `updraft standalone` with the QueueExecutor and one `updraft worker`, as an Airflow user runs
// `airflow standalone` beside a Celery worker: the embedded database in a temp home, the example
// DAGs, the real Redis under a key prefix of this file's own. The worker has a home of its own
// (another machine: no shared log folder), so it writes the task logs in its own folder and the
// API reads them through the worker's log server, signed with standalone's generated secret key.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, expect, test } from "vitest";
import { Daemon, EXAMPLES, eventually, updraft } from "../e2e/helpers.js";
import { TEST_REDIS_URL, describeWithRedis, freePort, testKeyPrefix } from "../redis-testing.js";

describeWithRedis("updraft standalone with a QueueExecutor worker", () => {
  const home = mkdtempSync(join(tmpdir(), "updraft-standalone-queue-"));
  const workerHome = mkdtempSync(join(tmpdir(), "updraft-standalone-worker-"));
  const prefix = testKeyPrefix();
  const queueEnv = {
    UPDRAFT__CORE__EXECUTOR: "QueueExecutor",
    UPDRAFT__QUEUE__BROKER_URL: TEST_REDIS_URL,
    UPDRAFT__QUEUE__KEY_PREFIX: prefix,
    UPDRAFT__WORKER__HEARTBEAT_INTERVAL: "1",
    UPDRAFT__WORKER__STALE_AFTER: "3",
    UPDRAFT__CORE__DAGS_FOLDER: EXAMPLES,
  };
  const env = { ...queueEnv, UPDRAFT_HOME: home };
  const daemons: Daemon[] = [];

  afterAll(async () => {
    for (const d of daemons.reverse()) await d.stop("SIGKILL");
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  test("the worker runs data_pipeline_lab; its logs, the worker and its capacity are seen through the API", async () => {
    const standalone = new Daemon(["standalone", "--port", "0"], env);
    daemons.push(standalone);
    const url = (await standalone.waitFor(/API and execution API: (http:\/\/[^\s]+)/, 120_000))[1] ?? "";
    // The banner tells the user that tasks wait for workers.
    expect(standalone.output).toMatch(/Executor: QueueExecutor\b.*updraft worker/);
    await standalone.waitFor(/first parse of the DAG folder finished/, 120_000);

    // Another machine's worker: its own home (logs, caches), the API server's secret key for
    // the log requests, its log server on a port and URL the API server reaches.
    const secrets = JSON.parse(readFileSync(join(home, "standalone-secrets.json"), "utf8")) as {
      secret_key: string;
    };
    const logPort = await freePort();
    const worker = new Daemon(["worker", "--queues", "default", "--concurrency", "2"], {
      ...queueEnv,
      UPDRAFT_HOME: workerHome,
      UPDRAFT__API__SECRET_KEY: secrets.secret_key,
      UPDRAFT__WORKER__SERVER_PORT: String(logPort),
      UPDRAFT__WORKER__SERVER_URL: `http://127.0.0.1:${logPort}`,
    });
    daemons.push(worker);
    await worker.waitFor(/is taking work/, 60_000);

    expect(updraft(["dags", "unpause", "data_pipeline_lab"], env).code).toBe(0);
    const t = updraft(["dags", "trigger", "data_pipeline_lab", "--run-id", "on_worker"], env);
    expect(t.code, t.stderr).toBe(0);
    const state = await eventually(
      () => {
        const s = updraft(["dags", "state", "data_pipeline_lab", "on_worker"], env).stdout.trim();
        return s === "success" || s === "failed" ? s : undefined;
      },
      120_000,
      "the run on the worker",
    );
    expect(state, `${standalone.output.slice(-3000)}\n${worker.output.slice(-2000)}`).toBe("success");
    const tis = JSON.parse(
      updraft(["tasks", "states-for-dag-run", "data_pipeline_lab", "on_worker", "--output", "json"], env)
        .stdout,
    ) as { task_id: string; state: string; try_number: number }[];
    expect(tis.map((ti) => [ti.task_id, ti.state, ti.try_number])).toEqual([
      ["aggregate", "success", 1],
      ["generate_data", "success", 1],
      ["notify", "success", 1],
      ["validate", "success", 1],
    ]);

    const { token } = JSON.parse(readFileSync(join(home, "standalone.json"), "utf8")) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    // The worker ran the four tries (the standalone process runs none: it has no LocalExecutor).
    const listed = (await (await fetch(`${url}/api/v1/workers`, { headers: auth })).json()) as {
      workers: { id: string; capacity: number; concurrency: number; tries_finished: number; state: string }[];
    };
    expect(listed.workers).toHaveLength(1);
    const [w] = listed.workers;
    expect(w).toMatchObject({ concurrency: 2, state: "running", tries_finished: 4 });
    expect(w?.capacity).toBeGreaterThanOrEqual(1);
    expect(w?.capacity).toBeLessThanOrEqual(2);

    // The log file is on the worker's disk only: the API server reads it from the worker.
    const log = await fetch(
      `${url}/api/v1/dags/data_pipeline_lab/dagRuns/on_worker/taskInstances/notify/logs/1`,
      { headers: auth },
    );
    const text = await log.text();
    expect(log.status, text).toBe(200);
    expect(text).toContain(`Reading from worker`);
    expect(text).toContain("PIPELINE COMPLETE - NOTIFICATION");
    // The worker wrote it under its own logging.base_log_folder, not at standalone's path.
    const relative = "dag_id=data_pipeline_lab/run_id=on_worker/task_id=notify/attempt=1.log";
    expect(existsSync(join(workerHome, "logs", relative))).toBe(true);
    expect(existsSync(join(home, "logs", relative))).toBe(false);

    // `workers list` where standalone runs reads the same Redis, never the embedded database.
    const cli = updraft(["workers", "list", "--output", "json"], env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual([expect.objectContaining({ id: w?.id, capacity: w?.capacity })]);
    const table = updraft(["workers", "list"], env);
    expect(table.stdout).toMatch(/capacity/);

    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(await standalone.stop("SIGTERM")).toBe(0);
  }, 300_000);
});
