// Task options that take effect in the task runner (multipleOutputs, doXcomPush, onExecuteCallback,
// onSkippedCallback, mapIndexTemplate, BashOperator's skipOnExitCode/appendEnv/outputEncoding,
// notifiers as callbacks),
// each run for real: the LocalExecutor forks runners from dist/runner/main.js against the API
// server on PGlite, and every outcome is read back from what the server stored or from files the
// callbacks wrote. Run `npm run build` first.
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import { openTestPGlite } from "../db-testing.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { API_TOKEN } from "../api/helpers.js";
import { startExecutionApi, type ExecutionApiHarness } from "./execution-api-harness.js";
import { addConnection, tryHarness } from "./executor-harness.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/option_dags.ts", import.meta.url));
const RUNNER = join(PACKAGE_ROOT, "dist", "runner", "main.js");
const RUN = "manual__2026-02-03T00:00:00+00:00";
const DAGS = [
  "multiple_outputs",
  "option_callbacks",
  "map_index_names",
  "bash_options",
  "notifiers",
  "slack_operator",
];

let database: Database;
let api: ExecutionApiHarness;
let executor: LocalExecutor;
let home: string;
let notes: string;
const events: ExecutorEvent[] = [];
/** What the local HTTP server (standing in for Slack and a webhook) received. */
const received: { path: string; authorization: string | undefined; body: unknown }[] = [];
let hookServer: Server;

const { key, run } = tryHarness({
  api: () => api,
  executor: () => executor,
  events,
  dagFile: DAG_FILE,
  runId: RUN,
});

const noteOf = (taskId: string) => {
  const path = join(notes, `${taskId}.txt`);
  return existsSync(path) ? readFileSync(path, "utf8") : "";
};

beforeAll(async () => {
  if (!existsSync(RUNNER))
    throw new Error("Run `npm run build` first: the runner is forked from dist/runner/main.js.");
  home = tempDir("updraft-options-");
  notes = tempDir("updraft-option-notes-");
  database = await openTestPGlite();
  api = await startExecutionApi(database, { home, heartbeatIntervalS: 0.2 });
  await api.loadDagFile(DAG_FILE);
  hookServer = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({
        path: req.url ?? "",
        authorization: req.headers.authorization,
        body: JSON.parse(body),
      });
      res.statusCode = req.url === "/broken" ? 500 : 200;
      res.end(req.url === "/broken" ? "upstream on fire" : "ok");
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  const port = (hookServer.address() as AddressInfo).port;
  for (const conn of [
    {
      connection_id: "slack_test",
      conn_type: "slackwebhook",
      host: `http://127.0.0.1:${port}`,
      password: "T000/B000/secret",
    },
    { connection_id: "hook_test", conn_type: "http", host: "127.0.0.1", port, login: "bot", password: "pw" },
    { connection_id: "hook_empty", conn_type: "slackwebhook" },
  ]) {
    await addConnection(api, conn);
  }
  for (const dagId of DAGS) await api.triggerRun(dagId, RUN, "2026-02-03T00:00:00Z");
  const quiet = () => undefined;
  executor = new LocalExecutor({
    parallelism: 2,
    env: { ...process.env, UPDRAFT_HOME: home, OPTION_TEST_DIR: notes },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  executor.onEvent((e) => events.push(e));
  await executor.start();
}, 60_000);

afterAll(async () => {
  await executor?.stop({ graceful: false, timeoutMs: 2000 });
  await api?.close();
  await database?.close();
  hookServer?.close();
  cleanupTempDirs();
});

describe("multipleOutputs and doXcomPush", () => {
  it("pushes each property of the returned object as its own XCom, and passes one downstream", async () => {
    // airflow/models/taskinstance.py: _execute_task pushes each key of a multiple_outputs
    // mapping as an XCom, then the whole value as return_value.
    expect((await run("multiple_outputs", "stats")).ti.state).toBe("success");
    const k = key("multiple_outputs", "stats");
    expect(await api.xcom(k)).toEqual({ total: 3, names: ["a", "b", "c"], ok: true });
    expect(await api.xcom(k, "total")).toBe(3);
    expect(await api.xcom(k, "names")).toEqual(["a", "b", "c"]);
    expect(await api.xcom(k, "ok")).toBe(true);
    const use = await run("multiple_outputs", "use_total");
    expect(use.ti.state).toBe("success");
    expect(await api.xcom(key("multiple_outputs", "use_total"))).toBe("3:abc");
  });

  it("fails a multipleOutputs task that returns no object, naming the fix", async () => {
    // airflow/models/taskinstance.py: _execute_task raises "Returned output was type ... expected
    // dictionary for multiple_outputs".
    const { ti, history } = await run("multiple_outputs", "not_an_object");
    expect(ti.state).toBe("failed");
    expect(history?.error).toContain("multipleOutputs: true but returned an array");
    expect(await api.xcom(key("multiple_outputs", "not_an_object"))).toBeUndefined();
  });

  it("pushes nothing with doXcomPush false, for TaskFlow (even with multipleOutputs) and Bash", async () => {
    // airflow/models/taskinstance.py: _execute_task pushes nothing when do_xcom_push is False.
    expect((await run("multiple_outputs", "no_push")).ti.state).toBe("success");
    expect(await api.xcom(key("multiple_outputs", "no_push"))).toBeUndefined();
    expect(await api.xcom(key("multiple_outputs", "no_push"), "a")).toBeUndefined();
    const bash = await run("multiple_outputs", "bash_no_push");
    expect(bash.ti.state).toBe("success");
    expect(bash.log).toContain("hidden");
    expect(await api.xcom(key("multiple_outputs", "bash_no_push"))).toBeUndefined();
  });

  it("pushes the last line of a BashOperator's stdout", async () => {
    // airflow/operators/bash.py: BashOperator.execute returns result.output, the last line.
    expect((await run("multiple_outputs", "bash_push")).ti.state).toBe("success");
    expect(await api.xcom(key("multiple_outputs", "bash_push"))).toBe("last line");
  });
});

describe("onExecuteCallback and onSkippedCallback", () => {
  it("calls onExecuteCallback before the body, and not onSkippedCallback on success", async () => {
    // airflow/models/taskinstance.py: _execute_task_with_callbacks runs on_execute_callback
    // right before execute.
    expect((await run("option_callbacks", "runs")).ti.state).toBe("success");
    expect(noteOf("runs")).toBe("execute runs 2026-02-03\nbody runs 2026-02-03\nsuccess runs 2026-02-03\n");
  });

  it("calls onSkippedCallback when the task skips itself, by the signal or a bash exit code", async () => {
    // airflow/models/taskinstance.py: _run_raw_task runs on_skipped_callback on AirflowSkipException.
    const skips = await run("option_callbacks", "skips");
    expect(skips.ti.state).toBe("skipped");
    expect(noteOf("skips")).toBe("execute skips 2026-02-03\nskipped skips 2026-02-03\n");
    const bash = await run("option_callbacks", "bash_skips");
    expect(bash.ti.state).toBe("skipped");
    expect(noteOf("bash_skips")).toBe("skipped bash_skips 2026-02-03\n");
  });

  it("runs the task when onExecuteCallback throws, logging the error", async () => {
    // airflow/models/taskinstance.py: _run_execute_callback logs a failing callback and goes on.
    const { ti, log } = await run("option_callbacks", "execute_cb_throws");
    expect(ti.state).toBe("success");
    expect(log).toContain("callback trouble");
    expect(await api.xcom(key("option_callbacks", "execute_cb_throws"))).toBe("ran anyway");
  });
});

describe("mapIndexTemplate", () => {
  async function restTis(
    dagId: string,
  ): Promise<{ task_id: string; map_index: number; rendered_map_index: string | null }[]> {
    const res = await fetch(
      `${api.url}/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(RUN)}/taskInstances?limit=100`,
      { headers: { authorization: `Bearer ${API_TOKEN}` } },
    );
    expect(res.status).toBe(200);
    return (
      (await res.json()) as {
        task_instances: { task_id: string; map_index: number; rendered_map_index: string | null }[];
      }
    ).task_instances;
  }

  it("names each mapped instance from its arguments, stored and shown by the REST API", async () => {
    // airflow/models/taskinstance.py: _execute_task_with_callbacks renders map_index_template
    // with the context after execute into rendered_map_index.
    await api.expand("map_index_names", RUN, "greet", 2);
    await api.expand("map_index_names", RUN, "bash_mapped", 2);
    const first = await run("map_index_names", "greet", 0);
    expect(first.ti).toMatchObject({ state: "success", rendered_map_index: "city=Oslo on 2026-02-03" });
    expect((await run("map_index_names", "greet", 1)).ti.rendered_map_index).toBe("city=Lima on 2026-02-03");
    expect((await run("map_index_names", "bash_mapped", 1)).ti.rendered_map_index).toBe("echo two");
    const tis = await restTis("map_index_names");
    const named = tis
      .filter((t) => t.task_id === "greet" && t.map_index >= 0)
      .sort((a, b) => a.map_index - b.map_index);
    expect(named.map((t) => t.rendered_map_index)).toEqual([
      "city=Oslo on 2026-02-03",
      "city=Lima on 2026-02-03",
    ]);
  });

  it("sees what the body added to its context, and still names a failed instance", async () => {
    // airflow/models/taskinstance.py: the template renders with the (mutated) context, also when
    // execute raised (rendering errors then ignored).
    await api.expand("map_index_names", RUN, "labelled", 2);
    expect((await run("map_index_names", "labelled", 0)).ti).toMatchObject({
      state: "success",
      rendered_map_index: "item #10",
    });
    expect((await run("map_index_names", "labelled", 1)).ti).toMatchObject({
      state: "failed",
      rendered_map_index: "item #20",
    });
  });
});

describe("BashOperator options", () => {
  it("skips on the exit codes in skipOnExitCode, and on none with null", async () => {
    // airflow/operators/bash.py: BashOperator.execute: exit code in skip_on_exit_code → AirflowSkipException.
    expect((await run("bash_options", "skip_on_3")).ti.state).toBe("skipped");
    const noSkip = await run("bash_options", "no_skip");
    expect(noSkip.ti.state).toBe("failed");
    expect(noSkip.history?.error).toContain("non-zero exit code 99");
  });

  it("replaces the environment with env, or adds to it with appendEnv", async () => {
    // airflow/operators/bash.py: BashOperator.get_env: append_env merges env into os.environ.
    expect((await run("bash_options", "replace_env")).ti.state).toBe("success");
    expect(await api.xcom(key("bash_options", "replace_env"))).toBe("[1][]");
    expect((await run("bash_options", "append_env")).ti.state).toBe("success");
    expect(await api.xcom(key("bash_options", "append_env"))).toBe(`[1][${notes}]`);
  });

  it("decodes stdout with outputEncoding (utf-8 by default)", async () => {
    // airflow/hooks/subprocess.py: SubprocessHook.run_command decodes lines with output_encoding.
    const latin = await run("bash_options", "latin1");
    expect(latin.ti.state).toBe("success");
    expect(await api.xcom(key("bash_options", "latin1"))).toBe("café");
    expect(latin.log).toContain("café");
    expect((await run("bash_options", "utf8_default")).ti.state).toBe("success");
    expect(await api.xcom(key("bash_options", "utf8_default"))).toBe("café");
  });
});

describe("notifiers", () => {
  it("posts a failure to a Slack webhook from its connection, with the error", async () => {
    expect((await run("notifiers", "tell_slack")).ti.state).toBe("failed");
    expect(received.find((r) => r.path === "/T000/B000/secret")?.body).toEqual({
      text: expect.stringMatching(/^notifiers\.tell_slack failed on try 1: Error: warehouse unreachable/),
      channel: "#alerts",
    });
  });

  it("sends JSON to a webhook connection with its credentials", async () => {
    expect((await run("notifiers", "tell_webhook")).ti.state).toBe("success");
    const hit = received.find((r) => r.path === "/events");
    expect(hit?.body).toEqual({ event: "success", task: "tell_webhook", run: RUN });
    expect(hit?.authorization).toBe(`Basic ${Buffer.from("bot:pw").toString("base64")}`);
  });

  it("logs a notifier that fails and keeps the task's state", async () => {
    const { ti, log } = await run("notifiers", "webhook_down");
    expect(ti.state).toBe("failed");
    expect(received.some((r) => r.path === "/broken")).toBe(true);
    expect(log).toContain("answered 500: upstream on fire");
    expect(log).not.toContain("secret");
  });
});

describe("SlackWebhookOperator", () => {
  it("posts its rendered message and blocks to the webhook of its connection", async () => {
    expect((await run("slack_operator", "announce")).ti.state).toBe("success");
    const hits = received.filter(
      (r) => r.path === "/T000/B000/secret" && JSON.stringify(r.body).includes("emea"),
    );
    expect(hits.map((h) => h.body)).toEqual([
      {
        text: "Sales for 2026-02-03 (emea) loaded",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: `*slack_operator* run ${RUN}` } }],
        channel: "#sales-emea",
      },
    ]);
  });

  it("fails with a clear message when the connection holds no webhook", async () => {
    const { ti, log } = await run("slack_operator", "no_webhook");
    expect(ti.state).toBe("failed");
    expect(log).toContain('Connection "hook_empty" has no webhook');
  });
});
