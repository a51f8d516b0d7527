// The task runner and the LocalExecutor with real child processes, against the in-test execution
// API of fake-execution-api.ts (the real API server is being written in parallel). Run `npm run
// build` first: runners are forked from dist/runner/main.js.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import type { Workload } from "../../src/model/execution-api.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { startFakeExecutionApi, type FakeExecutionApi } from "./fake-execution-api.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/runner_dags.ts", import.meta.url));
const RUNNER = join(PACKAGE_ROOT, "dist", "runner", "main.js");
const RUN = "manual__2026-01-05T00:00:00+00:00";

let api: FakeExecutionApi;
let executor: LocalExecutor;
let home: string;
const events: ExecutorEvent[] = [];

function waitFor(w: Workload, timeoutMs = 20_000): Promise<ExecutorEvent> {
  return new Promise((resolve, reject) => {
    const match = (e: ExecutorEvent) =>
      e.kind === w.kind &&
      e.ti.dag_id === w.ti.dag_id &&
      e.ti.task_id === w.ti.task_id &&
      e.ti.map_index === w.ti.map_index &&
      e.try_number === w.try_number;
    const found = events.find(match);
    if (found) return resolve(found);
    const timer = setTimeout(
      () => reject(new Error(`no event for ${w.ti.task_id} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const off = executor.onEvent((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

async function run(
  dagId: string,
  taskId: string,
  o: Parameters<FakeExecutionApi["queueTask"]>[1] extends infer O
    ? Partial<O> & { mapIndex?: number }
    : never = {},
) {
  const w = api.queueTask(
    { dag_id: dagId, run_id: RUN, task_id: taskId, map_index: o.mapIndex ?? -1 },
    { fileloc: DAG_FILE, ...o },
  );
  executor.queueWorkload(w);
  const event = await waitFor(w);
  const log = existsSync(w.log_path) ? readFileSync(w.log_path, "utf8") : "";
  return { w, event, log, ti: api.ti(w.ti) };
}

beforeAll(async () => {
  if (!existsSync(RUNNER))
    throw new Error("Run `npm run build` first: the runner is forked from dist/runner/main.js.");
  home = tempDir("updraft-runner-");
  api = await startFakeExecutionApi({
    logDir: join(home, "logs"),
    heartbeatIntervalS: 0.2,
    xcomMaxSize: 200 * 1024,
    params: { who: "world" },
    maskSecrets: ["s3cr3t-from-server"],
  });
  api.variables.set("greeting", "hello");
  api.variables.set("api_token", "tok-variable-value-123");
  api.connections.set("warehouse", {
    conn_id: "warehouse",
    conn_type: "postgres",
    host: "db.internal",
    schema: "dw",
    login: "etl",
    password: "p@ss-w0rd-xyz",
    port: 5432,
    extra: {},
  });
  executor = new LocalExecutor({
    parallelism: 2,
    env: { ...process.env, UPDRAFT_HOME: home },
    logger: quietLogger,
  });
  executor.onEvent((e) => events.push(e));
  await executor.start();
}, 30_000);

afterAll(async () => {
  await executor?.stop({ graceful: false, timeoutMs: 2000 });
  await api?.close();
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
    // The literal argument is a template; the "{{ ds }}" that came through XCom is data.
    expect(report.log).toContain("report day 2026-01-05 42 {{ ds }}");
    expect(api.xcoms.get(`xcom_chain|${RUN}|report|-1|return_value`)).toBe("day 2026-01-05:42");
    expect(report.ti.rendered).toEqual({ args: [{ doubled: 42, note: "{{ ds }}" }, "day 2026-01-05"] });
  });

  it("gives each mapped instance its element of the upstream list", async () => {
    await run("xcom_chain", "nums");
    expect(api.ti({ dag_id: "xcom_chain", run_id: RUN, task_id: "nums" }).finishes[0]).toMatchObject({
      return_value_length: 3,
    });
    const second = await run("xcom_chain", "square", { mapIndex: 2 });
    expect(second.event).toMatchObject({ state: "success" });
    expect(api.xcoms.get(`xcom_chain|${RUN}|square|2|return_value`)).toBe(9);
  });

  it("renders a templated BashOperator and logs its output", async () => {
    const { event, log, ti } = await run("bash_dag", "echo_dates");
    expect(event).toMatchObject({ state: "success" });
    expect(log).toMatch(/^\S+Z INFO \[task\] dates 2026-01-05 2026-01-12 hello world$/m);
    expect(log).toContain("Starting attempt 1 of 1");
    expect(ti.rendered).toMatchObject({ bashCommand: "echo dates 2026-01-05 2026-01-12 hello world" });
  });

  it("skips on bash exit 99, and names an undefined template variable", async () => {
    const skip = await run("bash_dag", "skip_me");
    expect(skip.event).toMatchObject({ state: "skipped" });
    expect(skip.log).toContain("about to skip");
    const undef = await run("bash_dag", "undefined_name");
    expect(undef.event).toMatchObject({ state: "failed" });
    expect(undef.ti.finishes[0]?.error).toContain('"params.nope" is undefined');
    expect(undef.ti.finishes[0]?.error).toContain('Template field "bashCommand"');
  });

  it("fails a throwing task with the user's file and line in the log, and runs its retry callback", async () => {
    const line =
      readFileSync(DAG_FILE, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("THROW_LINE")) + 1;
    const { event, log, ti } = await run("faults", "throws");
    expect(event).toMatchObject({ state: "failed" });
    expect(log).toContain("Error: boom from the DAG file");
    expect(log).toContain(`${DAG_FILE}:${line}:`);
    expect(log).not.toMatch(/dist\/runner|src\/runner/);
    expect(ti.finishes[0]?.error).toContain(`runner_dags.ts:${line}:`);

    const retry = await run("faults", "fails_with_callback", { maxTries: 2 });
    expect(retry.event).toMatchObject({ state: "up_for_retry" });
    expect(retry.log).toContain("retry callback ran for fails_with_callback");
    const noRetry = await run("faults", "no_retry", { maxTries: 3 });
    expect(noRetry.ti.finishes[0]).toMatchObject({ state: "failed", no_retry: true });
    expect(noRetry.event).toMatchObject({ state: "failed" });
  });

  it("turns process.exit(3) into a task failure and recycles the process", async () => {
    const before = executor.spawned;
    const { event, log } = await run("faults", "exits");
    expect(event).toMatchObject({ type: "finished", state: "failed" });
    expect(log).toContain("process.exit(3)");
    await new Promise((r) => setTimeout(r, 300));
    expect(executor.spawned).toBe(before + 1); // the dirty process retired and was replaced
    expect((await run("faults", "noop")).event).toMatchObject({ state: "success" });
  });

  it("fails a task past its execution timeout", async () => {
    const started = Date.now();
    const { event, ti } = await run("faults", "sleeps", { executionTimeoutMs: 300 });
    expect(event).toMatchObject({ state: "failed" });
    expect(ti.finishes[0]?.error).toBe("Task exceeded its execution timeout of 300ms.");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("aborts a task whose heartbeat is refused (409) without reporting", async () => {
    const w = api.queueTask({ dag_id: "faults", run_id: RUN, task_id: "hangs" }, { fileloc: DAG_FILE });
    api.ti(w.ti).giveAwayOnHeartbeat = true;
    executor.queueWorkload(w);
    const event = await waitFor(w);
    expect(event).toMatchObject({ type: "finished", state: null });
    expect(api.ti(w.ti).finishes).toEqual([]);
    expect(api.ti(w.ti).state).toBe("failed"); // as the server set it
    expect(readFileSync(w.log_path, "utf8")).toContain("heartbeat refused with 409");
  });

  it("changes nothing on a late start (409)", async () => {
    const w = api.queueTask({ dag_id: "faults", run_id: RUN, task_id: "noop" }, { fileloc: DAG_FILE });
    api.ti(w.ti).state = "running"; // another runner owns this try
    const requestsBefore = api.requests.length;
    executor.queueWorkload(w);
    expect(await waitFor(w)).toMatchObject({ type: "finished", state: null });
    expect(api.ti(w.ti).state).toBe("running");
    expect(api.requests.slice(requestsBefore)).toEqual(["POST /execution/ti/start"]);
    // The file may have been created in the background; this runner wrote nothing to it.
    expect(existsSync(w.log_path) ? readFileSync(w.log_path, "utf8") : "").toBe("");
  });

  it("masks secrets in the log", async () => {
    const { event, log } = await run("faults", "secrets");
    expect(event).toMatchObject({ state: "success" });
    expect(log).toContain("pw=*** token=*** server=***");
    expect(log).toContain("postgres://etl:***@db.internal:5432/dw");
    expect(log).toMatch(/INFO \[task\] partial line$/m);
    expect(log).toMatch(/WARNING \[task\] a warning$/m);
    for (const secret of ["p@ss-w0rd-xyz", "tok-variable-value-123", "s3cr3t-from-server", "tok-"])
      expect(log).not.toContain(secret);
  });

  it("warns above 48 KB of XCom and fails with the server's message above its limit", async () => {
    const big = await run("faults", "big_xcom");
    expect(big.event).toMatchObject({ state: "success" });
    expect(big.log).toMatch(/WARNING \[runner\] The return value is 60\.0 KB/);
    const huge = await run("faults", "huge_xcom");
    expect(huge.event).toMatchObject({ state: "failed" });
    expect(huge.ti.finishes[0]?.error).toContain("above core.xcom_max_size (204800 bytes)");
  });

  it("sends the branch's follow_task_ids", async () => {
    const { event, ti } = await run("faults", "choose");
    expect(event).toMatchObject({ state: "success" });
    expect(ti.finishes[0]).toMatchObject({ state: "success", follow_task_ids: ["left"] });
  });

  it("runs a DAG failure callback sent by the scheduler", async () => {
    const w = api.callbackWorkload(
      { dag_id: "faults", run_id: RUN, task_id: "throws", map_index: -1 },
      { fileloc: DAG_FILE, callback: "dag_failure", error: "task throws failed" },
    );
    executor.queueWorkload(w);
    expect(await waitFor(w)).toMatchObject({ kind: "callback", state: "success" });
    expect(readFileSync(w.log_path, "utf8")).toContain(`dag failure callback for ${RUN}`);
  });

  it("reuses warm processes, and measures the runner's overhead per no-op task", async () => {
    await run("faults", "noop");
    const before = executor.spawned;
    const runnerMs: number[] = [];
    const roundTripMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const w = api.queueTask({ dag_id: "faults", run_id: RUN, task_id: "noop" }, { fileloc: DAG_FILE });
      const t0 = performance.now();
      executor.queueWorkload(w);
      const e = await waitFor(w);
      roundTripMs.push(performance.now() - t0);
      if (e.type === "finished") runnerMs.push(e.runner_ms);
    }
    expect(executor.spawned).toBe(before);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    console.log(
      `runner overhead per no-op task (workload received → finish answered): median ${median(runnerMs).toFixed(2)} ms; executor round trip (queueWorkload → finished event): median ${median(roundTripMs).toFixed(2)} ms`,
    );
    expect(median(runnerMs)).toBeLessThan(20);
  });

  it("runs a fresh_process workload in its own process", async () => {
    const before = executor.spawned;
    expect((await run("faults", "noop", { freshProcess: true })).event).toMatchObject({ state: "success" });
    expect(executor.spawned).toBe(before + 1);
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
      const w = api.queueTask({ dag_id: "faults", run_id: RUN, task_id: "hog" }, { fileloc: DAG_FILE });
      const event = new Promise<ExecutorEvent>((resolve) => small.onEvent(resolve));
      small.queueWorkload(w);
      const e = await event;
      expect(e).toMatchObject({ type: "lost", ti: w.ti, try_number: 1 });
      expect(e.type === "lost" && e.reason).toMatch(/out of memory.*96 MB/);
      expect(readFileSync(w.log_path, "utf8")).toContain(
        "The runner process died during this try: out of memory",
      );
      expect(api.ti(w.ti).state).toBe("running"); // the server's heartbeat timeout takes it from here
    } finally {
      await small.stop({ graceful: false, timeoutMs: 1000 });
    }
  });

  it("runs a one-shot workload from the command line", async () => {
    const w = api.queueTask({ dag_id: "faults", run_id: RUN, task_id: "noop" }, { fileloc: DAG_FILE });
    const b64 = Buffer.from(JSON.stringify(w)).toString("base64");
    // Asynchronously: the fake API server lives in this process.
    const child = spawn(process.execPath, ["--enable-source-maps", RUNNER, "--workload", b64], {
      env: { ...process.env, UPDRAFT_HOME: home },
      stdio: "ignore",
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(api.ti(w.ti).state).toBe("success");
  });
});
