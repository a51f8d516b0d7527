// Requests per second of start + finish pairs against the real API server on PostgreSQL.
//   npm run build && node packages/updraft/test/api/bench-start-finish.mjs [tasks=20000] [concurrency=32]
// The server runs in this process, the load generator in a child process (both on this machine).
import { Buffer } from "node:buffer";
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const dist = new URL("../../dist/", import.meta.url);
const { signToken } = await import(new URL("common/signed-token.js", dist));
const SECRET = "bench-secret-key-0123456789abcdef";
const [, , mode, ...rest] = process.argv;

if (mode === "--client") {
  const [url, first, count, concurrency] = rest;
  await client(url, Number(first), Number(count), Number(concurrency));
} else {
  await server(Number(mode ?? 20000), Number(rest[0] ?? 32));
}

async function server(tasks, concurrency) {
  const { openDatabase, migrate, saveDag } = await import(new URL("db/index.js", dist));
  const { createApiServer } = await import(new URL("api/index.js", dist));
  const { loadConfig } = await import(new URL("config/index.js", dist));
  const admin = process.env.UPDRAFT_TEST_POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/postgres";
  const name = `updraft_bench_${randomBytes(4).toString("hex")}`;
  const c = new pg.Client(admin);
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  // For comparison only: how much of the cost is waiting for WAL flushes at commit.
  if (process.env.BENCH_ASYNC_COMMIT === "1")
    await c.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const database = await openDatabase({
    url: url.toString(),
    poolSize: Number(process.env.BENCH_POOL ?? 16),
  });
  try {
    await migrate(database);
    const dag = benchDag();
    await saveDag(
      database.db,
      { dagId: "bench", fileloc: "/bench.ts" },
      { data: dag, dagHash: dag.dag_hash },
    );
    await database.db.executeQuery({
      sql: `insert into dag_run (dag_id, run_id, run_type, state, logical_date)
            select 'bench', 'r' || g, 'manual', 'running', '2024-01-01'::timestamptz + g * interval '1 second'
            from generate_series(1, $1::int) g`,
      parameters: [tasks],
      query: { kind: "RawNode" },
    });
    await database.db.executeQuery({
      sql: `insert into task_instance (dag_id, run_id, task_id, state, try_number, max_tries)
            select 'bench', 'r' || g, 't', 'queued', 1, 1 from generate_series(1, $1::int) g`,
      parameters: [tasks],
      query: { kind: "RawNode" },
    });
    const config = loadConfig({ home: mkdtempSync(join(tmpdir(), "updraft-bench-")), env: {} });
    const api = await createApiServer({ database, config, events: null, secretKey: SECRET });
    const base = await api.listen(0, "127.0.0.1");
    const started = Date.now();
    const cpu0 = process.cpuUsage();
    const child = fork(new URL(import.meta.url).pathname, [
      "--client",
      base,
      "1",
      String(tasks),
      String(concurrency),
    ]);
    const result = await new Promise((resolve, reject) => {
      child.on("message", resolve);
      child.on("exit", (code) => (code === 0 ? undefined : reject(new Error(`client exited ${code}`))));
    });
    const states = await database.db.executeQuery({
      sql: "select state, count(*)::int as n from task_instance group by state",
      parameters: [],
      query: { kind: "RawNode" },
    });
    const cpu = process.cpuUsage(cpu0);
    const wallMs = Date.now() - started;
    const serverCpu = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100);
    console.log(
      JSON.stringify({
        tasks,
        concurrency,
        ...result,
        wallMs,
        serverCpuPercent: serverCpu,
        states: states.rows,
      }),
    );
    await api.close();
  } finally {
    await database.close();
    const d = new pg.Client(admin);
    await d.connect();
    await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await d.end();
  }
}

function benchDag() {
  const t = {
    task_id: "t",
    operator: "@task",
    task_group_id: null,
    upstream_task_ids: [],
    downstream_task_ids: [],
    trigger_rule: "all_success",
    owner: "airflow",
    retries: 0,
    retry_delay_ms: 300000,
    retry_exponential_backoff: false,
    max_retry_delay_ms: null,
    execution_timeout_ms: null,
    pool: "default_pool",
    pool_slots: 1,
    priority_weight: 1,
    weight_rule: "downstream",
    queue: "default",
    sla_ms: null,
    email: [],
    email_on_failure: false,
    email_on_retry: false,
    has_on_failure_callback: false,
    has_on_success_callback: false,
    has_on_retry_callback: false,
    executor_config: {},
    max_active_tis_per_dag: null,
    fresh_process: false,
    start_date: null,
    end_date: null,
    do_xcom_push: true,
    doc_md: null,
    is_setup: false,
    is_teardown: false,
    branch_kind: null,
    template_fields: [],
    fields: {},
    expand: null,
  };
  return {
    __version: 1,
    dag_id: "bench",
    fileloc: "/bench.ts",
    description: null,
    schedule: null,
    timetable_summary: "None",
    timezone: null,
    start_date: null,
    end_date: null,
    catchup: false,
    max_active_runs: null,
    max_active_tasks: null,
    dagrun_timeout_ms: null,
    tags: [],
    owners: [],
    params: {},
    doc_md: null,
    has_on_success_callback: false,
    has_on_failure_callback: false,
    has_sla_miss_callback: false,
    is_paused_upon_creation: null,
    task_groups: [],
    tasks: [t],
    dag_hash: "bench-hash-1",
  };
}

async function client(base, first, count, concurrency) {
  const u = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const call = (path, token, body) =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = request(
        {
          hostname: u.hostname,
          port: u.port,
          method: "POST",
          path,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            res.statusCode < 300 ? resolve(res.statusCode) : reject(new Error(`${path} ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  let next = first;
  const last = first + count - 1;
  let requests = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next <= last) {
        const i = next++;
        const token = signToken(
          {
            ti: { dag_id: "bench", run_id: `r${i}`, task_id: "t", map_index: -1 },
            try_number: 1,
            exp,
            scope: "task",
          },
          SECRET,
        );
        await call("/execution/ti/start", token, { hostname: "bench", pid: process.pid });
        await call("/execution/ti/finish", token, { state: "success" });
        requests += 2;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.send({
    requests,
    seconds: Number(seconds.toFixed(2)),
    requestsPerSecond: Math.round(requests / seconds),
    tasksPerSecond: Math.round(requests / 2 / seconds),
  });
  agent.destroy();
  process.exit(0);
}
