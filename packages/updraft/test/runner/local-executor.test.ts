// The task runner and the LocalExecutor with real child processes, against the real API server
// on an in-memory PGlite database: every outcome is read back from what the server recorded
// (task_instance, task_instance_history, xcom) or from its answers. Run `npm run build` first:
// runners are forked from dist/runner/main.js.
import { API_TOKEN } from "../api/helpers.js";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { openTestPGlite } from "../db-testing.js";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import type { TaskInstanceKey, Workload } from "../../src/model/execution-api.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { startExecutionApi, type ExecutionApiHarness, type QueueOptions } from "./execution-api-harness.js";
import { tryHarness } from "./executor-harness.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/runner_dags.ts", import.meta.url));
const RUNNER = join(PACKAGE_ROOT, "dist", "runner", "main.js");
const RUN = "manual__2026-01-05T00:00:00+00:00";

let database: Database;
let api: ExecutionApiHarness;
let executor: LocalExecutor;
let home: string;
const events: ExecutorEvent[] = [];

const { key, readLog, waitFor } = tryHarness({
  api: () => api,
  executor: () => executor,
  events,
  dagFile: DAG_FILE,
  runId: RUN,
});

const sameTry = (w: Workload) => (r: { ti: TaskInstanceKey | null; tryNumber: number | null }) =>
  r.ti !== null &&
  r.ti.dag_id === w.ti.dag_id &&
  r.ti.run_id === w.ti.run_id &&
  r.ti.task_id === w.ti.task_id &&
  r.ti.map_index === w.ti.map_index &&
  r.tryNumber === w.try_number;

/** Polls `check` until it holds; the processes under test answer in their own time. */
async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Queues the next try of a task, runs it in the executor, and reads back what was recorded. */
async function run(dagId: string, taskId: string, o: QueueOptions & { mapIndex?: number } = {}) {
  const { mapIndex, ...queue } = o;
  const k = key(dagId, taskId, mapIndex);
  const w = await api.queueTry(k, DAG_FILE, queue);
  executor.queueWorkload(w);
  const event = await waitFor(w);
  return {
    w,
    event,
    log: readLog(w),
    ti: await api.ti(k),
    history: await api.historyOf(k, w.try_number),
  };
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
  home = tempDir("updraft-runner-");
  database = await openTestPGlite();
  api = await startExecutionApi(database, { home, heartbeatIntervalS: 0.2, xcomMaxSize: 200 * 1024 });
  await api.loadDagFile(DAG_FILE);
  await api.triggerRun("xcom_chain", RUN, "2026-01-05T00:00:00Z");
  // Conf keys that are not declared params pass through to `params`, as in Airflow.
  await api.triggerRun("bash_dag", RUN, "2026-01-05T00:00:00Z", { who: "world" });
  await api.triggerRun("faults", RUN, "2026-01-05T00:00:00Z");
  await restPost("/variables", { key: "greeting", value: "hello" });
  await restPost("/variables", { key: "api_token", value: "tok-variable-value-123" });
  await restPost("/connections", {
    connection_id: "warehouse",
    conn_type: "postgres",
    host: "db.internal",
    schema: "dw",
    login: "etl",
    password: "p@ss-w0rd-xyz",
    port: 5432,
  });
  executor = new LocalExecutor({
    parallelism: 2,
    env: {
      ...process.env,
      UPDRAFT_HOME: home,
      // Secrets the executor's process has and its runners must not (see "keeps secrets…" below).
      UPDRAFT__API__SECRET_KEY: "executor-secret-key",
      UPDRAFT__QUEUE__BROKER_URL: "redis://:broker-password@127.0.0.1:6379/0",
      UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: "postgres://u:db-password@127.0.0.1/x",
      UPDRAFT__CORE__FERNET_KEY: "fernet-key",
      UPDRAFT__CORE__PARALLELISM: "7",
    },
    logger: quietLogger,
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

const print = (obj: Record<string, unknown>, msg: string) => console.error(msg, obj);
const quietLogger = process.env["UPDRAFT_TEST_VERBOSE"]
  ? { debug: print, info: print, warn: print, error: print }
  : { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe("task runner in warm processes", () => {
  it("passes XCom along a TaskFlow chain, rendering only what the DAG file wrote", async () => {
    expect((await run("xcom_chain", "extract")).event).toMatchObject({ type: "finished", state: "success" });
    expect((await run("xcom_chain", "double")).event).toMatchObject({ state: "success" });
    const report = await run("xcom_chain", "report");
    expect(report.event).toMatchObject({ state: "success" });
    expect(report.ti).toMatchObject({ state: "success", try_number: 1 });
    // The literal argument is a template; the "{{ ds }}" that came through XCom is data.
    expect(report.log).toContain("report day 2026-01-05 42 {{ ds }}");
    expect(await api.xcom(key("xcom_chain", "double"))).toEqual({ doubled: 42, note: "{{ ds }}" });
    expect(await api.xcom(key("xcom_chain", "report"))).toBe("day 2026-01-05:42");
    expect(report.ti.rendered_fields).toEqual({
      args: [{ doubled: 42, note: "{{ ds }}" }, "day 2026-01-05"],
    });
  });

  it("gives each mapped instance its element of the upstream list", async () => {
    expect((await run("xcom_chain", "nums")).event).toMatchObject({ state: "success" });
    expect(await api.xcom(key("xcom_chain", "nums"))).toEqual([1, 2, 3]);
    await api.expand("xcom_chain", RUN, "square", 3);
    const second = await run("xcom_chain", "square", { mapIndex: 2 });
    expect(second.event).toMatchObject({ state: "success" });
    expect(second.ti).toMatchObject({ state: "success", map_index: 2 });
    expect(await api.xcom(key("xcom_chain", "square", 2))).toBe(9);
  });

  it("renders a templated BashOperator and logs its output", async () => {
    const { event, log, ti } = await run("bash_dag", "echo_dates");
    expect(event).toMatchObject({ state: "success" });
    expect(ti.state).toBe("success");
    expect(log).toMatch(/^\S+Z INFO \[task\] dates 2026-01-05 2026-01-12 hello world$/m);
    expect(log).toContain("Starting attempt 1 of 1");
    expect(ti.rendered_fields).toMatchObject({
      bashCommand: "echo dates 2026-01-05 2026-01-12 hello world",
    });
  });

  it("keeps secrets of the executor's process (secret key, database, fernet key, Redis) from tasks", async () => {
    const { event, log } = await run("bash_dag", "env_names");
    expect(event).toMatchObject({ state: "success" });
    expect(log).toContain("UPDRAFT__CORE__PARALLELISM");
    for (const name of ["API__SECRET_KEY", "QUEUE__BROKER_URL", "DATABASE__SQL_ALCHEMY_CONN", "FERNET_KEY"])
      expect(log).not.toContain(name);
  });

  it("skips on bash exit 99, and names an undefined template variable", async () => {
    const skip = await run("bash_dag", "skip_me");
    expect(skip.event).toMatchObject({ state: "skipped" });
    expect(skip.ti.state).toBe("skipped");
    expect(skip.log).toContain("about to skip");
    const undef = await run("bash_dag", "undefined_name");
    expect(undef.event).toMatchObject({ state: "failed" });
    expect(undef.ti.state).toBe("failed");
    expect(undef.history?.error).toContain('"params.nope" is undefined');
    expect(undef.history?.error).toContain('Template field "bashCommand"');
  });

  it("fails a throwing task with the user's file and line in the log, and runs its retry callback", async () => {
    const line =
      readFileSync(DAG_FILE, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("THROW_LINE")) + 1;
    const { event, log, ti, history } = await run("faults", "throws");
    expect(event).toMatchObject({ state: "failed" });
    expect(ti).toMatchObject({ state: "failed", try_number: 1 });
    expect(log).toContain("Error: boom from the DAG file");
    expect(log).toContain(`${DAG_FILE}:${line}:`);
    expect(log).not.toMatch(/dist\/runner|src\/runner/);
    expect(history).toMatchObject({ state: "failed" });
    expect(history?.error).toContain(`runner_dags.ts:${line}:`);

    // retries: 1 in the DAG file, so the server keeps the failed first try for a retry.
    const retry = await run("faults", "fails_with_callback");
    expect(retry.event).toMatchObject({ state: "up_for_retry" });
    expect(retry.ti).toMatchObject({ state: "up_for_retry", try_number: 1, max_tries: 1 });
    expect(retry.ti.next_retry_at).not.toBeNull();
    expect(retry.log).toContain("retry callback ran for fails_with_callback");

    const noRetry = await run("faults", "no_retry", { maxTries: 3 });
    expect(noRetry.event).toMatchObject({ state: "failed" });
    // Failed at try 1 with 3 retries left: only the runner's no_retry keeps it from up_for_retry.
    expect(noRetry.ti).toMatchObject({ state: "failed", try_number: 1, max_tries: 3 });
    expect(noRetry.history).toMatchObject({ state: "failed" });
    expect(noRetry.history?.error).toContain("bad credentials");
  });

  it("turns process.exit(3) into a task failure and recycles the process", async () => {
    const before = executor.stats().spawned;
    const { event, log, ti } = await run("faults", "exits");
    expect(event).toMatchObject({ type: "finished", state: "failed" });
    expect(ti.state).toBe("failed");
    expect(log).toContain("process.exit(3)");
    // The dirty process retires and one replacement is forked.
    await until("the retired process is replaced", () => executor.stats().spawned > before);
    expect(executor.stats().spawned).toBe(before + 1);
    expect((await run("faults", "noop")).event).toMatchObject({ state: "success" });
  });

  it("fails a task past its execution timeout", async () => {
    const { event, ti, history } = await run("faults", "sleeps", { executionTimeoutMs: 300 });
    expect(event).toMatchObject({ state: "failed" });
    expect(ti.state).toBe("failed");
    expect(history?.error).toBe("Task exceeded its execution timeout of 300ms.");
    // The task sleeps 60 s: a try far shorter than that was cut by the timeout, not finished.
    expect(ti.duration).toBeLessThan(30);
  });

  it("aborts a task whose heartbeat is refused (409) without reporting", async () => {
    const k = key("faults", "hangs");
    const w = await api.queueTry(k, DAG_FILE);
    executor.queueWorkload(w);
    // start() stamps last_heartbeat_at = start_date; a later value is a heartbeat the server took.
    await until("a heartbeat of the running try is recorded", async () => {
      const ti = await api.ti(k);
      return (
        ti.state === "running" &&
        ti.start_date !== null &&
        ti.last_heartbeat_at !== null &&
        ti.last_heartbeat_at.getTime() > ti.start_date.getTime()
      );
    });
    // Marked failed by hand while it runs: the next heartbeat of this try is refused.
    const marked = await sql`
      update task_instance set state = 'failed', end_date = now(), updated_at = now()
      where dag_id = ${k.dag_id} and run_id = ${k.run_id} and task_id = ${k.task_id}
        and map_index = ${k.map_index} and state = 'running' and try_number = ${w.try_number}`.execute(
      database.db,
    );
    expect(marked.numAffectedRows).toBe(1n);
    expect(await waitFor(w)).toMatchObject({ type: "finished", state: null });
    expect(await api.ti(k)).toMatchObject({ state: "failed", try_number: w.try_number });
    expect(await api.historyOf(k, w.try_number)).toBeUndefined();
    const mine = api.requests.filter(sameTry(w));
    expect(mine).toContainEqual(expect.objectContaining({ path: "/execution/ti/heartbeat", status: 409 }));
    expect(mine.filter((r) => r.path === "/execution/ti/finish")).toEqual([]);
    expect(readLog(w)).toContain("heartbeat refused with 409");
  });

  it("changes nothing on a late start (409)", async () => {
    const k = key("faults", "noop");
    const w = await api.queueTry(k, DAG_FILE);
    // Another runner with this try's token started it first.
    const started = await fetch(`${api.url}/execution/ti/start`, {
      method: "POST",
      headers: { authorization: `Bearer ${w.token}`, "content-type": "application/json" },
      body: JSON.stringify({ hostname: "other-runner", pid: 4242 }),
    });
    expect(started.status).toBe(200);
    const requestsBefore = api.requests.length;
    executor.queueWorkload(w);
    expect(await waitFor(w)).toMatchObject({ type: "finished", state: null });
    expect(await api.ti(k)).toMatchObject({
      state: "running",
      try_number: w.try_number,
      hostname: "other-runner",
      pid: 4242,
    });
    const late = () => api.requests.slice(requestsBefore).filter(sameTry(w));
    await until("the refused start is answered", () => late().length > 0);
    expect(late().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(["POST /execution/ti/start 409"]);
    // The file may have been created in the background; this runner wrote nothing to it.
    expect(readLog(w)).toBe("");

    // The other runner ends its try, so that later tests can queue the task again.
    const finished = await fetch(`${api.url}/execution/ti/finish`, {
      method: "POST",
      headers: { authorization: `Bearer ${w.token}`, "content-type": "application/json" },
      body: JSON.stringify({ state: "success" }),
    });
    expect(finished.status).toBe(200);
    expect(await finished.json()).toMatchObject({ state: "success" });
  });

  it("masks secrets in the log", async () => {
    const { w, event, log } = await run("faults", "secrets");
    expect(event).toMatchObject({ state: "success" });
    expect(log).toContain("pw=*** token=***");
    expect(log).toContain("postgres://etl:***@db.internal:5432/dw");
    expect(log).toMatch(/INFO \[task\] partial line$/m);
    expect(log).toMatch(/WARNING \[task\] a warning$/m);
    for (const secret of ["p@ss-w0rd-xyz", "tok-variable-value-123", w.token])
      expect(log).not.toContain(secret);
  });

  it("warns above 48 KB of XCom and fails with the server's message above its limit", async () => {
    const big = await run("faults", "big_xcom");
    expect(big.event).toMatchObject({ state: "success" });
    expect(big.log).toMatch(/WARNING \[runner\] The return value is 60\.0 KB/);
    expect(await api.xcom(key("faults", "big_xcom"))).toBe("x".repeat(60 * 1024));
    const huge = await run("faults", "huge_xcom");
    expect(huge.event).toMatchObject({ state: "failed" });
    expect(huge.ti.state).toBe("failed");
    expect(huge.history?.error).toContain('of task "huge_xcom"');
    expect(huge.history?.error).toContain("over core.xcom_max_size (204800 bytes)");
    expect(await api.xcom(key("faults", "huge_xcom"))).toBeUndefined();
  });

  it("follows the branch's choice and skips the other branch", async () => {
    const { event, ti } = await run("faults", "choose");
    expect(event).toMatchObject({ state: "success" });
    expect(ti.state).toBe("success");
    expect((await api.ti(key("faults", "right"))).state).toBe("skipped");
    // Followed, so not skipped (the server may already have settled this EmptyOperator as success).
    expect((await api.ti(key("faults", "left"))).state).not.toBe("skipped");
  });

  it("runs a DAG failure callback sent by the scheduler", async () => {
    const w = await api.callbackWorkload(
      key("faults", "throws"),
      DAG_FILE,
      "dag_failure",
      "task throws failed",
    );
    executor.queueWorkload(w);
    expect(await waitFor(w)).toMatchObject({ kind: "callback", state: "success" });
    expect(readFileSync(w.log_path, "utf8")).toContain(`dag failure callback for ${RUN}`);
  });

  it("reuses warm processes across many tasks", async () => {
    await run("faults", "noop");
    const before = executor.stats().spawned;
    const tries: number[] = [];
    for (let i = 0; i < 40; i++) {
      const w = await api.queueTry(key("faults", "noop"), DAG_FILE);
      executor.queueWorkload(w);
      expect(await waitFor(w)).toMatchObject({ type: "finished", state: "success" });
      tries.push(w.try_number);
    }
    expect(executor.stats().spawned).toBe(before);
    const recorded = await sql<{ n: number }>`
      select count(*)::int as n from task_instance_history
      where dag_id = 'faults' and run_id = ${RUN} and task_id = 'noop' and state = 'success'
        and try_number between ${tries[0] ?? 0} and ${tries.at(-1) ?? 0}`.execute(database.db);
    expect(recorded.rows[0]?.n).toBe(40);
  });

  it("runs a fresh_process workload in its own process", async () => {
    const before = executor.stats().spawned;
    const { event, ti } = await run("faults", "noop", { freshProcess: true });
    expect(event).toMatchObject({ state: "success" });
    expect(ti.state).toBe("success");
    expect(executor.stats().spawned).toBe(before + 1);
  });
});

describe("the warm pool sizes to the work, not to parallelism", () => {
  let burstNo = 0;
  /** `n` queued tries of `taskId`, each in a run of its own. */
  async function queuedTries(taskId: string, n: number): Promise<Workload[]> {
    const ws = [];
    burstNo++;
    for (let i = 0; i < n; i++) {
      const runId = `burst_${burstNo}_${i}`;
      await api.triggerRun("faults", runId, new Date(Date.UTC(2027, 0, 1, burstNo, i)).toISOString());
      ws.push(
        await api.queueTry({ dag_id: "faults", run_id: runId, task_id: taskId, map_index: -1 }, DAG_FILE),
      );
    }
    return ws;
  }

  /** Queues `n` tries of `taskId` at once on `exec` and waits until every one finished. */
  async function burst(exec: LocalExecutor, taskId: string, n: number): Promise<void> {
    const ws = await queuedTries(taskId, n);
    const done = new Set<string>();
    const all = new Promise<void>((resolve) =>
      exec.onEvent((e) => {
        if (e.type === "finished" && e.ti.task_id === taskId) done.add(e.ti.run_id);
        if (done.size === n) resolve();
      }),
    );
    for (const w of ws) exec.queueWorkload(w);
    await all;
  }

  /**
   * An executor that starts with two processes and grows only for the tasks' sake (no timer,
   * unless `growAfterMs` is given).
   */
  async function withPool(
    parallelism: number,
    fn: (exec: LocalExecutor) => Promise<void>,
    o: { growAfterMs?: number } = {},
  ): Promise<void> {
    const exec = new LocalExecutor({
      parallelism,
      eagerProcesses: 2,
      growAfterMs: o.growAfterMs ?? 60_000,
      env: { ...process.env, UPDRAFT_HOME: home },
      logger: quietLogger,
    });
    try {
      await exec.start();
      await fn(exec);
    } finally {
      await exec.stop({ graceful: false, timeoutMs: 1000 });
    }
  }

  it("keeps short tasks on as many processes as cores, however large parallelism is", async () => {
    await withPool(16, async (exec) => {
      await burst(exec, "noop", 30);
      // Their runners mostly wait for the API server, not for the task: more processes would not help.
      expect(exec.stats().spawned).toBeLessThanOrEqual(2);
    });
  });

  it("grows when long tries hold every process while work waits, once they held them a second", async () => {
    await withPool(
      4,
      async (exec) => {
        // Tries that sleep a minute: none finishes, so only the wait for a free process can grow the pool.
        for (const w of await queuedTries("sleeps", 4)) exec.queueWorkload(w);
        await new Promise((r) => setTimeout(r, 500));
        // Held for less than a second: as likely the engine's delay as the tasks' (no growth).
        expect(exec.stats().spawned).toBe(2);
        const deadline = Date.now() + 10_000;
        while (exec.stats().spawned < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(exec.stats().spawned).toBe(4);
      },
      { growAfterMs: 100 },
    );
  });

  it("grows for tasks that mostly wait (sleeps, I/O)", async () => {
    await withPool(8, async (exec) => {
      await burst(exec, "naps", 16);
      expect(exec.stats().spawned).toBeGreaterThan(2);
      expect(exec.openSlots()).toBeGreaterThan(2);
    });
  });
});

describe("failures that take the process down", () => {
  it("reports a task that exhausts its memory as lost", async () => {
    const small = new LocalExecutor({
      parallelism: 1,
      minWarm: 1,
      memoryCapMb: 96,
      env: { ...process.env, UPDRAFT_HOME: home },
      logger: quietLogger,
    });
    try {
      await small.start();
      const k = key("faults", "hog");
      const w = await api.queueTry(k, DAG_FILE);
      const event = new Promise<ExecutorEvent>((resolve) => small.onEvent(resolve));
      small.queueWorkload(w);
      const e = await event;
      expect(e).toMatchObject({ type: "lost", ti: w.ti, try_number: 1 });
      expect(e.type === "lost" && e.reason).toMatch(/out of memory.*96 MB/);
      expect(readFileSync(w.log_path, "utf8")).toContain(
        "The runner process died during this try: out of memory",
      );
      // Nobody reported the end: the scheduler's heartbeat timeout takes it from here.
      expect(await api.ti(k)).toMatchObject({ state: "running", try_number: 1 });
      expect(await api.historyOf(k, 1)).toBeUndefined();
    } finally {
      await small.stop({ graceful: false, timeoutMs: 1000 });
    }
  });

  it("says a runner killed by a plain SIGKILL was killed, not that it ran out of memory", async () => {
    const k = key("faults", "sleeps");
    const w = await api.queueTry(k, DAG_FILE);
    const lost = new Promise<ExecutorEvent>((resolve) => {
      const off = executor.onEvent((e) => {
        if (e.type === "lost" && e.ti.task_id === "sleeps") {
          off();
          resolve(e);
        }
      });
    });
    executor.queueWorkload(w);
    let pid: number | null = null;
    await until("the try runs", async () => {
      const ti = await api.ti(k);
      pid = ti?.state === "running" && ti.try_number === w.try_number ? ti.pid : null;
      return pid !== null;
    });
    process.kill(pid!, "SIGKILL");
    const e = await lost;
    const reason = e.type === "lost" ? e.reason : "";
    expect(reason).toMatch(/killed by SIGKILL/);
    // The kernel killed nothing for lack of memory meanwhile: the reason must not say it did.
    expect(reason).not.toMatch(/^out of memory/);
    expect(reason).toMatch(/out-of-memory killer killed nothing/);
  });

  it("runs a one-shot workload from the command line", async () => {
    const k = key("faults", "noop");
    const w = await api.queueTry(k, DAG_FILE);
    const b64 = Buffer.from(JSON.stringify(w)).toString("base64");
    // Asynchronously: the API server lives in this process.
    const child = spawn(process.execPath, ["--enable-source-maps", RUNNER, "--workload", b64], {
      env: { ...process.env, UPDRAFT_HOME: home },
      stdio: "ignore",
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(await api.ti(k)).toMatchObject({ state: "success", try_number: w.try_number });
    expect(await api.historyOf(k, w.try_number)).toMatchObject({ state: "success" });
  });
});

describe("a LocalExecutor with a log folder of its own (a QueueExecutor worker's)", () => {
  it("writes the try's log there, at the same relative path, not where the server placed it", async () => {
    const folder = tempDir("updraft-worker-logs-");
    const own = new LocalExecutor({
      parallelism: 1,
      minWarm: 0,
      env: { ...process.env, UPDRAFT_HOME: home },
      logFolder: folder,
      logger: quietLogger,
    });
    await own.start();
    try {
      const w = await api.queueTry(key("bash_dag", "echo_dates"), DAG_FILE);
      const ended = new Promise<ExecutorEvent>((resolve) =>
        own.onEvent((e) => {
          if (e.ti.task_id === "echo_dates" && e.try_number === w.try_number) resolve(e);
        }),
      );
      own.queueWorkload(w);
      expect(await ended).toMatchObject({ type: "finished", state: "success" });
      const relative = w.log_path.slice(w.log_path.lastIndexOf("/dag_id="));
      expect(readFileSync(join(folder, relative), "utf8")).toContain("INFO [task] dates 2026-01-05");
      expect(existsSync(w.log_path)).toBe(false);
    } finally {
      await own.stop({ graceful: false, timeoutMs: 2000 });
    }
  });
});
