// Connections from `UPDRAFT_CONN_{CONN_ID}` through the real lookup path: an engine in this
// process (its API server reads this process's environment), LocalExecutor runners that call
// the execution API, and a task reading the connections with ctx.conn.get. The environment
// comes before the database (decision 0039); a broken value fails the task with a message that
// names the variable.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createCipher, getDagRun, listTaskInstances, setConnection } from "../../src/db/index.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { setDagPaused, triggerDagRun } from "../../src/services/index.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";

const ENV = {
  UPDRAFT_CONN_FROM_ENV_URI: "http://bot:t0ken@127.0.0.1:8081/?timeout=5",
  UPDRAFT_CONN_FROM_ENV_JSON: JSON.stringify({
    conn_type: "aws",
    login: "key",
    password: "secret-key",
    extra: { endpoint_url: "http://127.0.0.1:4569" },
  }),
  // Also in the database, with another host: the environment wins, as in Airflow.
  UPDRAFT_CONN_BOTH: "postgres://env@env-host:5432/db",
  UPDRAFT_CONN_BROKEN: '{"conn_type": "postgres", "port": "five"}',
};

const DAG = `import { dag, task } from "updraft";
const read = task("read", async (ctx) => {
  const out: Record<string, unknown> = {};
  for (const id of ["from_env_uri", "From_Env_Json", "both", "db_only"]) {
    const c = await ctx.conn.get(id);
    out[id] = { type: c.conn_type, host: c.host, login: c.login, port: c.port, extra: c.extra, pw: c.password?.length };
  }
  return out;
});
const broken = task("broken", async (ctx) => { await ctx.conn.get("broken"); });
export default dag({ dagId: "env_connections" }, () => { read(); broken(); });
`;

let t: TestEngine;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const [k, v] of Object.entries(ENV)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  t = await startTestEngine({
    name: "env-connections",
    files: { "env_connections.ts": DAG },
    overrides: { "core.executor": "LocalExecutor", "scheduler.scheduler_heartbeat_sec": 1 },
    logLevel: "warn",
  });
  const cipher = createCipher(t.config.core.fernet_key);
  const row = { description: null, schema: null, login: null, password: null, port: null, extra: null };
  await setConnection(t.database.db, cipher, {
    ...row,
    connId: "both",
    connType: "postgres",
    host: "db-host",
  });
  await setConnection(t.database.db, cipher, {
    ...row,
    connId: "db_only",
    connType: "http",
    host: "db-only",
  });
  await setDagPaused(t.database.db, "env_connections", false);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("UPDRAFT_CONN_* connections", () => {
  test("a task reads them through the execution API, before the database", async () => {
    const { run_id: runId } = await triggerDagRun(t.database.db, { dagId: "env_connections", conf: {} });
    const deadline = Date.now() + 90_000;
    let state: string | undefined;
    while (Date.now() < deadline) {
      state = (await getDagRun(t.database.db, { dagId: "env_connections", runId }))?.state;
      if (state === "success" || state === "failed") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const tis = await listTaskInstances(t.database.db, { dagId: "env_connections", runId });
    const byTask = Object.fromEntries(tis.map((ti) => [ti.task_id, ti.state]));
    expect(byTask).toEqual({ read: "success", broken: "failed" });
    expect(state).toBe("failed");

    const xcom = await t.database.db
      .selectFrom("xcom")
      .select("value")
      .where("dag_id", "=", "env_connections")
      .where("run_id", "=", runId)
      .where("task_id", "=", "read")
      .where("key", "=", "return_value")
      .executeTakeFirstOrThrow();
    const value: unknown = typeof xcom.value === "string" ? JSON.parse(xcom.value) : xcom.value;
    expect(value).toEqual({
      from_env_uri: {
        type: "http",
        host: "127.0.0.1",
        login: "bot",
        port: 8081,
        extra: { timeout: "5" },
        pw: 5,
      },
      From_Env_Json: {
        type: "aws",
        host: null,
        login: "key",
        port: null,
        extra: { endpoint_url: "http://127.0.0.1:4569" },
        pw: 10,
      },
      both: { type: "postgres", host: "env-host", login: "env", port: 5432, extra: {}, pw: undefined },
      db_only: { type: "http", host: "db-only", login: null, port: null, extra: {}, pw: undefined },
    });

    const log = readFileSync(
      join(
        t.config.logging.base_log_folder,
        taskLogRelativePath(
          { dag_id: "env_connections", run_id: runId, task_id: "broken", map_index: -1 },
          1,
        ),
      ),
      "utf8",
    );
    expect(log).toContain("UPDRAFT_CONN_BROKEN");
    expect(log).toContain('"port" must be a whole number');
    expect(log).toContain("Set it to a connection URI");
  }, 120_000);
});
