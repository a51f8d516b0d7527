// The operator families through the whole engine, in this process as `updraft dags test` runs
// it (API server, scheduler, DAG processor, LocalExecutor runners from dist/, on an in-memory
// database with connections written to it): one DAG uses a SQL operator on a throwaway
// PostgreSQL, an HTTP sensor and operator on a loopback server, a file sensor, a weekday branch
// and a python3 script. Needs dist/ (npm run build).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startEngine, type Engine } from "../../src/cli/engine.js";
import { loadConfig } from "../../src/config/index.js";
import {
  createCipher,
  generateFernetKey,
  getDagRun,
  listTaskInstances,
  openMemoryDatabase,
  setConnection,
  type Database,
} from "../../src/db/index.js";
import { setDagPaused, triggerDagRun } from "../../src/services/index.js";
import { createThrowawayDatabase, type ThrowawayDatabase } from "../db-testing.js";

let warehouse: ThrowawayDatabase;
let server: Server;
let port = 0;
let pokes = 0;
let engine: Engine;
let database: Database;
const home = mkdtempSync(join(tmpdir(), "updraft-e2e-ops-"));
const folder = mkdtempSync(join(tmpdir(), "updraft-e2e-ops-dags-"));

beforeAll(async () => {
  warehouse = await createThrowawayDatabase();
  server = createServer((req, res) => {
    if (req.url === "/ready") {
      res.statusCode = ++pokes < 3 ? 404 : 200;
      return res.end(pokes < 3 ? "not yet" : "ready");
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ rows: 2 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  writeFileSync(join(folder, "flag.txt"), "ready\n");
  writeFileSync(
    join(folder, "count.py"),
    'import json, sys\nprint(json.dumps({"seen": int(sys.argv[1])}))\n',
  );
  writeFileSync(
    join(folder, "operator_families.ts"),
    `import { BranchDayOfWeekOperator, EmptyOperator, ExternalProcessOperator, FileSensor, HttpOperator, HttpSensor, SQLExecuteQueryOperator, dag } from "updraft";
export default dag({ dagId: "operator_families" }, () => {
  const create = new SQLExecuteQueryOperator({ taskId: "create", connId: "warehouse", sql: "create table t (n int); insert into t values (1), (2)", autocommit: true });
  const count = new SQLExecuteQueryOperator({ taskId: "count", connId: "warehouse", sql: "select count(*)::int from t" });
  const ready = new HttpSensor({ taskId: "api_ready", httpConnId: "api", endpoint: "/ready", pokeInterval: "100ms", timeout: "30s" });
  const call = new HttpOperator({ taskId: "call", httpConnId: "api", endpoint: "/rows", method: "GET", responseFilter: (r) => r.json() });
  const file = new FileSensor({ taskId: "flag", filepath: ${JSON.stringify(join(folder, "*.txt"))}, pokeInterval: "100ms", timeout: "30s" });
  const script = new ExternalProcessOperator({ taskId: "script", script: "count.py", args: ["{{ ds_nodash }}"] });
  const branch = new BranchDayOfWeekOperator({ taskId: "branch", weekDay: ["Monday","Tuesday","Wednesday","Thursday","Friday","Saturday","Sunday"], followTaskIdsIfTrue: "any_day", followTaskIdsIfFalse: "never" });
  create.before(count).before(script);
  ready.before(call);
  file.before(branch).before([new EmptyOperator({ taskId: "any_day" }), new EmptyOperator({ taskId: "never" })]);
});
`,
  );
  const fernetKey = generateFernetKey();
  const config = loadConfig({
    env: { UPDRAFT_HOME: home },
    overrides: {
      "logging.base_log_folder": join(home, "logs"),
      "core.executor": "LocalExecutor",
      "core.fernet_key": fernetKey,
      "core.dags_are_paused_at_creation": true,
    },
  });
  database = await openMemoryDatabase(join(home, "cache"));
  const cipher = createCipher(fernetKey);
  const u = new URL(warehouse.url);
  await setConnection(database.db, cipher, {
    connId: "warehouse",
    connType: "postgres",
    description: null,
    host: u.hostname,
    port: Number(u.port || 5432),
    schema: warehouse.name,
    login: decodeURIComponent(u.username),
    password: u.password === "" ? null : decodeURIComponent(u.password),
    extra: null,
  });
  await setConnection(database.db, cipher, {
    connId: "api",
    connType: "http",
    description: null,
    host: "127.0.0.1",
    port,
    schema: null,
    login: null,
    password: null,
    extra: null,
  });
  engine = await startEngine({
    config,
    dagsFolder: folder,
    database,
    parts: { api: true, scheduler: true, processor: true },
    logger: pino({ level: "warn" }),
    secretKey: randomBytes(32).toString("base64url"),
    port: 0,
    host: "127.0.0.1",
    awaitFirstParse: true,
  });
  await database.db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
  await setDagPaused(database.db, "operator_families", false);
}, 120_000);

afterAll(async () => {
  await engine?.stop();
  await database?.close();
  server?.close();
  await warehouse?.drop();
  rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

describe("operator families through the engine", () => {
  test("SQL, HTTP, sensors, a branch and a python3 script run in one DAG run", async () => {
    const db = database.db;
    const run = await triggerDagRun(
      db,
      { dagId: "operator_families", conf: {}, logicalDate: null },
      { events: engine.events },
    );
    const deadline = Date.now() + 90_000;
    let state: string | undefined;
    while (Date.now() < deadline) {
      state = (await getDagRun(db, { dagId: "operator_families", runId: run.run_id }))?.state;
      if (state === "success" || state === "failed") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const tis = await listTaskInstances(db, { dagId: "operator_families", runId: run.run_id });
    const states = Object.fromEntries(tis.map((t) => [t.task_id, t.state]));
    expect(states).toEqual({
      create: "success",
      count: "success",
      api_ready: "success",
      call: "success",
      flag: "success",
      script: "success",
      branch: "success",
      any_day: "success",
      never: "skipped",
    });
    expect(state).toBe("success");
    expect(pokes).toBeGreaterThanOrEqual(3);
    const client = new pg.Client({ connectionString: warehouse.url });
    await client.connect();
    try {
      expect((await client.query("select count(*)::int as n from t")).rows[0]).toEqual({ n: 2 });
    } finally {
      await client.end();
    }
  }, 200_000);
});
