// The operator library run for real (issue 13): each task runs in a runner forked by the
// LocalExecutor from dist/runner/main.js against the API server (on PGlite), and talks to real
// parts — a throwaway PostgreSQL database, an HTTP server on loopback, files in a temp folder,
// python3. Outcomes are read back from what the server stored. Run `npm run build` first.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { simpleParser } from "mailparser";
import pg from "pg";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { LocalExecutor, type ExecutorEvent } from "../../src/executors/index.js";
import { createThrowawayDatabase, openTestPGlite, type ThrowawayDatabase } from "../db-testing.js";
import { PACKAGE_ROOT, cleanupTempDirs, tempDir } from "../helpers.js";
import { startExecutionApi, type ExecutionApiHarness } from "./execution-api-harness.js";
import { addConnection as addConnectionVia, tryHarness } from "./executor-harness.js";

const DAG_FILE = fileURLToPath(new URL("./fixtures/operators/operator_dags.ts", import.meta.url));
const RUNNER = join(PACKAGE_ROOT, "dist", "runner", "main.js");
const RUN = "manual__2026-02-03T00:00:00+00:00"; // a Tuesday
const DAGS = ["sql_ops", "http_ops", "sensor_ops", "control_ops", "email_ops"];

let database: Database;
let api: ExecutionApiHarness;
let executor: LocalExecutor;
let warehouse: ThrowawayDatabase;
let sqlClient: pg.Client;
let http: Server;
let landing: string;
let smtp: SMTPServer;
const inbox: { from: string; to: string; subject: string; html: string }[] = [];
const events: ExecutorEvent[] = [];
const hits: {
  method: string;
  url: string;
  authorization?: string;
  body: string;
  xRun?: string;
  team?: string;
}[] = [];
let flakyCalls = 0;
let readyCalls = 0;

const { key, start, finish, run, logShows } = tryHarness({
  api: () => api,
  executor: () => executor,
  events,
  dagFile: DAG_FILE,
  runId: RUN,
});
const addConnection = (conn: Record<string, unknown>) => addConnectionVia(api, conn);

beforeAll(async () => {
  if (!existsSync(RUNNER))
    throw new Error("Run `npm run build` first: the runner is forked from dist/runner/main.js.");
  const home = tempDir("updraft-ops-");
  landing = tempDir("updraft-landing-");
  warehouse = await createThrowawayDatabase();
  sqlClient = new pg.Client({ connectionString: warehouse.url });
  await sqlClient.connect();
  database = await openTestPGlite();
  api = await startExecutionApi(database, { home, heartbeatIntervalS: 0.5 });
  await api.loadDagFile(DAG_FILE);
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const url = req.url ?? "";
      hits.push({
        method: req.method ?? "",
        url,
        body,
        ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
        ...(typeof req.headers["x-run"] === "string" ? { xRun: req.headers["x-run"] } : {}),
        ...(typeof req.headers["x-team"] === "string" ? { team: req.headers["x-team"] } : {}),
      });
      const json = (status: number, v: unknown) => {
        res.statusCode = status;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(v));
      };
      if (url.startsWith("/flaky/"))
        return ++flakyCalls <= 2
          ? json(503, { busy: true })
          : json(200, { got: JSON.parse(body) as unknown });
      if (url === "/down") return json(500, { error: "upstream on fire" });
      if (url === "/status") return json(200, { status: "running" });
      if (url === "/ready") {
        res.statusCode = ++readyCalls <= 3 ? 404 : 200;
        return res.end(readyCalls <= 3 ? "not yet" : "ready");
      }
      if (url.startsWith("/echo"))
        return json(200, {
          q: new URL(url, "http://x").searchParams.get("q"),
          auth: req.headers.authorization,
        });
      json(404, {});
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((mail) => {
          inbox.push({
            from: mail.from?.text ?? "",
            to: Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(", ") : (mail.to?.text ?? ""),
            subject: mail.subject ?? "",
            html: typeof mail.html === "string" ? mail.html.trim() : "",
          });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  await addConnection({
    connection_id: "mail",
    conn_type: "smtp",
    host: "127.0.0.1",
    port: smtpPort,
    extra: { starttls: false, ssl: false, from_email: "updraft@ops.test" },
  });
  const port = (http.address() as AddressInfo).port;
  const pgUrl = new URL(warehouse.url);
  await addConnection({
    connection_id: "warehouse",
    conn_type: "postgres",
    host: pgUrl.hostname,
    port: Number(pgUrl.port || 5432),
    schema: warehouse.name,
    login: decodeURIComponent(pgUrl.username),
    ...(pgUrl.password === "" ? {} : { password: decodeURIComponent(pgUrl.password) }),
  });
  await addConnection({
    connection_id: "api",
    conn_type: "http",
    host: "127.0.0.1",
    port,
    login: "bot",
    password: "s3cret-pw",
    extra: { "x-team": "data" },
  });
  await addConnection({ connection_id: "landing", conn_type: "fs", extra: { path: landing } });
  for (const dagId of DAGS) await api.triggerRun(dagId, RUN, "2026-02-03T00:00:00Z");
  const quiet = () => undefined;
  executor = new LocalExecutor({
    parallelism: 3,
    // The runner's view of core.xcom_max_size: the SQL operator checks rows against it.
    env: { ...process.env, UPDRAFT_HOME: home, UPDRAFT__CORE__XCOM_MAX_SIZE: "8192" },
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  executor.onEvent((e) => events.push(e));
  await executor.start();
}, 60_000);

afterAll(async () => {
  await executor?.stop({ graceful: false, timeoutMs: 2000 });
  await api?.close();
  await database?.close();
  await sqlClient?.end();
  await warehouse?.drop();
  http?.close();
  smtp?.close();
  cleanupTempDirs();
});

describe("SQL operators on PostgreSQL", () => {
  it("creates tables, runs a templated .sql file split into statements, and pushes selected rows as XCom", async () => {
    expect((await run("sql_ops", "create")).ti.state).toBe("success");
    const file = await run("sql_ops", "insert_file");
    expect(file.ti.state).toBe("success");
    const rows = await sqlClient.query<{ day: string; region: string; amount: number }>(
      "select to_char(day, 'YYYY-MM-DD') as day, region, amount from sales order by amount",
    );
    expect(rows.rows).toEqual([
      { day: "2026-02-03", region: "emea", amount: 10 },
      { day: "2026-02-03", region: "emea", amount: 32 },
    ]);
    const select = await run("sql_ops", "select");
    expect(select.ti.state).toBe("success");
    expect(await select.xcom()).toEqual([["emea", 42]]);
  });

  it("runs statements in one transaction by default: a failing one rolls back the others", async () => {
    const r = await run("sql_ops", "rollback");
    expect(r.ti.state).toBe("failed");
    expect(r.log).toContain("division by zero");
    const count = await run("sql_ops", "audit_count");
    expect(await count.xcom()).toEqual([{ count: 0 }]);
  });

  it("refuses rows over core.xcom_max_size with a message that says what to do", async () => {
    const r = await run("sql_ops", "too_big");
    expect(r.ti.state).toBe("failed");
    expect(r.log).toMatch(/over core\.xcom_max_size \(8192 bytes\)/);
    expect(r.log).toContain("doXcomPush: false");
  });

  it("SQLCheckOperator and SQLValueCheckOperator pass and fail on the first row", async () => {
    expect((await run("sql_ops", "check_ok")).ti.state).toBe("success");
    const bad = await run("sql_ops", "check_bad");
    expect(bad.ti.state).toBe("failed");
    expect(bad.log).toContain("Test failed");
    expect((await run("sql_ops", "value_ok")).ti.state).toBe("success");
    const off = await run("sql_ops", "value_bad");
    expect(off.ti.state).toBe("failed");
    expect(off.log).toContain("expected 50 ±10%");
  });

  it("SqlSensor pokes until a row appears", async () => {
    const w = await start("sql_ops", "wait_rows");
    await logShows(w, "Poke 2: not yet");
    await sqlClient.query("insert into audit values ('ready')");
    const r = await finish(w);
    expect(r.ti.state).toBe("success");
    expect(r.log).toMatch(/Success criteria met after \d+ poke/);
  });

  it("ctx.hooks.postgres works from TaskFlow code, and a wrong conn_type names the connection and both types", async () => {
    const r = await run("sql_ops", "hook_query");
    expect(r.ti.state).toBe("success");
    expect(await r.xcom()).toEqual({ total: 42, n: 7 });
    // The try's connection was closed before it reported.
    const open = await sqlClient.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'updraft'",
      [warehouse.name],
    );
    expect(open.rows[0]?.n).toBe(0);
    const wrong = await run("sql_ops", "hook_wrong_type");
    expect(wrong.ti.state).toBe("failed");
    expect(wrong.log).toContain(
      'Connection "api" has conn_type "http", but the PostgreSQL hook needs "postgres"',
    );
    expect(wrong.log).not.toContain("s3cret-pw");
  });
});

describe("HTTP operators against a server on loopback", () => {
  it("retries 5xx answers with backoff, logs each status, and pushes the filtered response", async () => {
    const r = await run("http_ops", "post_flaky");
    expect(r.ti.state).toBe("success");
    expect(flakyCalls).toBe(3);
    expect(await r.xcom()).toEqual({ day: "2026-02-03" });
    expect(r.log).toContain("status 503; attempt 1 failed, retrying");
    expect(r.log).toContain("status 200");
    const last = hits.filter((h) => h.url === "/flaky/2026-02-03").at(-1);
    expect(last?.method).toBe("POST");
    expect(last?.xRun).toBe(RUN);
    expect(last?.team).toBe("data");
    expect(last?.authorization).toBe(`Basic ${Buffer.from("bot:s3cret-pw").toString("base64")}`);
  });

  it("fails after the last 5xx, and when responseCheck returns false", async () => {
    const down = await run("http_ops", "always_500");
    expect(down.ti.state).toBe("failed");
    expect(down.log).toContain("answered 500");
    expect(hits.filter((h) => h.url === "/down")).toHaveLength(2);
    const check = await run("http_ops", "check_false");
    expect(check.ti.state).toBe("failed");
    expect(check.log).toContain("Response check returned false");
  });

  it("HttpSensor pokes through 404s until the server says ready", async () => {
    const r = await run("http_ops", "wait_ready");
    expect(r.ti.state).toBe("success");
    expect(readyCalls).toBe(4);
  });

  it("ctx.hooks.http sends GET data as query parameters with the connection's auth", async () => {
    const r = await run("http_ops", "hook_http");
    expect(r.ti.state).toBe("success");
    expect(await r.xcom()).toEqual({
      q: "2026-02-03",
      auth: `Basic ${Buffer.from("bot:s3cret-pw").toString("base64")}`,
    });
  });
});

describe("sensors", () => {
  it("FileSensor finds a glob match created while it waits, under the fs connection's path", async () => {
    const w = await start("sensor_ops", "wait_file");
    await logShows(w, "Poke 2: not yet");
    mkdirSync(join(landing, "in"), { recursive: true });
    writeFileSync(join(landing, "in", "sales.csv"), "a,b\n");
    const r = await finish(w);
    expect(r.ti.state).toBe("success");
    expect(r.log).toContain(`Found file ${join(landing, "in", "sales.csv")}`);
  });

  it("a timeout skips with softFail, and otherwise fails without using the retries", async () => {
    const soft = await run("sensor_ops", "file_soft_fail");
    expect(soft.ti.state).toBe("skipped");
    const hard = await run("sensor_ops", "file_timeout");
    expect(hard.ti.state).toBe("failed");
    expect(hard.log).toContain("Sensor has timed out");
  });

  it("DateTimeSensor and TimeDeltaSensor succeed once their time has passed", async () => {
    expect((await run("sensor_ops", "past_time")).ti.state).toBe("success");
    expect((await run("sensor_ops", "after_interval")).ti.state).toBe("success");
  });
});

describe("control operators", () => {
  it("BranchDayOfWeekOperator follows the day's branch and skips the other", async () => {
    const r = await run("control_ops", "weekday");
    expect(r.ti.state).toBe("success");
    expect(r.log).toContain("tuesday (logical date) is one of the days");
    expect((await api.ti(key("control_ops", "other_day"))).state).toBe("skipped");
    expect((await api.ti(key("control_ops", "on_tuesday"))).state).not.toBe("skipped");
  });

  it("LatestOnlyOperator lets a manual run continue", async () => {
    const r = await run("control_ops", "latest_only");
    expect(r.ti.state).toBe("success");
    expect(r.log).toContain("Manually triggered DAG run");
    expect((await api.ti(key("control_ops", "after_latest"))).state).not.toBe("skipped");
  });

  it("ExternalProcessOperator runs python3 with its env, streams stdout and pushes the last JSON line", async () => {
    const r = await run("control_ops", "python_json");
    expect(r.ti.state).toBe("success");
    expect(r.log).toContain("starting ['--date', '2026-02-03']");
    expect(r.log).toContain("done, no JSON here");
    expect(await r.xcom()).toEqual({ date: "2026-02-03", model: "v3", python: 3 });
  });

  it("a non-zero exit fails with the end of stderr; a missing interpreter says so", async () => {
    const r = await run("control_ops", "python_fail");
    expect(r.ti.state).toBe("failed");
    expect(r.log).toContain("exited with code 3");
    expect(r.log).toContain("ValueError: the input file is empty");
    const missing = await run("control_ops", "no_interpreter");
    expect(missing.ti.state).toBe("failed");
    expect(missing.log).toContain("Could not start /nonexistent/python9");
  });
});

describe("EmailOperator", () => {
  it("sends the rendered email through the notifier's SMTP code to the connection's server", async () => {
    const r = await run("email_ops", "send_report");
    expect(r.ti.state).toBe("success");
    expect(inbox).toEqual([
      {
        from: "updraft@ops.test",
        to: "sales@example.com, boss@example.com",
        subject: "Report for 2026-02-03",
        html: "<p>Loaded sales for 2026-02-03</p>",
      },
    ]);
  });

  it("refuses a connection that is not smtp", async () => {
    const r = await run("email_ops", "wrong_conn");
    expect(r.ti.state).toBe("failed");
    expect(r.log).toContain('Connection "api" has conn_type "http", but the EmailOperator needs "smtp"');
  });
});
