// Workload "api": the REST API over a large history, as the web UI will read it. A throwaway
// PostgreSQL database gets 1,000 DAGs and one DAG of 100 tasks with 10,000 runs (1 million task
// instances, seeded with SQL, the way years of history look), then the real API server (over
// HTTP, with a Viewer's token) is timed on:
//   - GET /api/v1/dags?limit=100                                  (goal p95 ≤ 50 ms)
//   - the latest 25 runs with their task instances: GET …/dagRuns?order_by=-execution_date&limit=25
//     then POST /dags/~/dagRuns/~/taskInstances/list for those runs (2,500 rows in 3 pages)
//                                                                  (goal p95 ≤ 150 ms, both calls)
//   - the same through the UI's Grid endpoint in one call: GET /api/v1/ui/grid/{dag_id}?limit=25
//                                                                  (goal p95 ≤ 150 ms)
//   - the UI's Durations charts: GET /api/v1/ui/durations/{dag_id}?limit=100 (goal p95 ≤ 150 ms)
//   - a 50 MB task log: time to the first byte, plain text and the first JSON chunk (goal ≤ 50 ms)
// Usage: npm run bench -- api [--requests N] [--runs N] [--only TEXT] (only the figures whose name
// contains TEXT, e.g. to profile one path with `node --cpu-prof bench/run.mjs api --only …`)
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { throwawayPostgres } from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "packages", "updraft", "dist");
const load = (p) => import(pathToFileURL(join(dist, p)).href);
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (n) => Math.round(n * 10) / 10;

const BIG_DAG = "bench_api_big";
const TASKS = 100;

/** One HTTP request; resolves with the status, the time to the first byte and to the end. */
function timed(base, method, path, token, body, accept = "application/json") {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstByte = null;
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const req = request(
      new URL(path, base),
      {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept,
          ...(payload ? { "content-type": "application/json", "content-length": payload.length } : {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => {
          firstByte ??= performance.now() - t0;
          chunks.push(c);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode,
            firstByteMs: firstByte ?? performance.now() - t0,
            totalMs: performance.now() - t0,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function seed(db, sql, runs) {
  const t0 = performance.now();
  // 1,000 small DAGs, as the DAG processor would have written them (the list reads the dag table).
  await sql`
    insert into dag (dag_id, is_paused, is_active, fileloc, owners, timetable_summary, tags, last_parsed_time)
    select 'bench_dag_' || lpad(i::text, 4, '0'), i % 3 = 0, true, '/dags/bench_' || i || '.ts',
      'data-eng', '0 6 * * *', case when i % 2 = 0 then '["sales"]' else '["ml"]' end::jsonb, now()
    from generate_series(1, 1000) i`.execute(db);
  // The big DAG's runs and their task instances, all finished.
  await sql`
    insert into dag_run (dag_id, run_id, logical_date, data_interval_start, data_interval_end, run_after,
      run_type, state, queued_at, start_date, end_date, conf, external_trigger)
    select ${BIG_DAG}, 'scheduled__' || to_char(d at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00',
      d, d, d + interval '1 hour', d + interval '1 hour', 'scheduled',
      case when i % 50 = 0 then 'failed' else 'success' end,
      d + interval '1 hour', d + interval '1 hour', d + interval '1 hour 5 minutes', '{}', false
    from generate_series(1, ${runs}) i, lateral (select timestamptz '2025-01-01' + (i * interval '1 hour') as d) x`.execute(
    db,
  );
  await sql`
    insert into task_instance (dag_id, run_id, task_id, map_index, state, try_number, max_tries, start_date,
      end_date, duration, pool, pool_slots, priority_weight, queue, operator, run_logical_date)
    select r.dag_id, r.run_id, 'task_' || lpad(t::text, 3, '0'), -1,
      case when r.state = 'failed' and t = 50 then 'failed' else 'success' end, 1, 0,
      r.start_date + t * interval '2 seconds', r.start_date + t * interval '2 seconds' + interval '1 second',
      1.0, 'default_pool', 1, 1, 'default', '@task', r.logical_date
    from dag_run r, generate_series(1, ${TASKS}) t
    where r.dag_id = ${BIG_DAG}`.execute(db);
  await sql`analyze`.execute(db);
  return performance.now() - t0;
}

export async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: "string", default: "200" },
      runs: { type: "string", default: "10000" },
      only: { type: "string", default: "" },
    },
  });
  const n = Number(values.requests);
  const runs = Number(values.runs);
  const { loadConfig } = await load("config/index.js");
  const { openDatabase, migrate } = await load("db/index.js");
  const { createApiServer } = await load("api/index.js");
  const { saveDag } = await load("db/index.js");
  const { createUser, createApiToken, randomPassword } = await load("services/index.js");
  const { taskLogRelativePath } = await load("model/log-path.js");
  const { sql } = await import("kysely");

  const pgdb = await throwawayPostgres("updraft_bench_api");
  const home = mkdtempSync(join(tmpdir(), "updraft-bench-api-"));
  const config = loadConfig({
    env: {},
    home,
    overrides: {
      "database.sql_alchemy_conn": pgdb.url,
      "logging.base_log_folder": join(home, "logs"),
      // The batch list is read in pages of 1,000 (the default cap is 100 per page).
      "webserver.maximum_page_limit": 1000,
    },
  });
  const database = await openDatabase(config);
  let server = null;
  try {
    await migrate(database);
    const db = database.db;
    const tasks = Array.from({ length: TASKS }, (_, i) => `task_${String(i + 1).padStart(3, "0")}`);
    const serialized = bigDag(tasks);
    await saveDag(
      db,
      { dagId: BIG_DAG, fileloc: "/dags/big.ts", isPausedAtCreation: false },
      { data: serialized, dagHash: "bench" },
    );
    const seedMs = await seed(db, sql, runs);
    const counts =
      await sql`select (select count(*) from dag) as dags, (select count(*) from dag_run) as runs,
      (select count(*) from task_instance) as tis`.execute(db);
    console.log(
      `seeded ${counts.rows[0].dags} DAGs, ${counts.rows[0].runs} runs, ${counts.rows[0].tis} task instances in ${Math.round(seedMs / 1000)} s`,
    );
    await createUser(db, {
      username: "bench",
      email: "bench@localhost",
      password: randomPassword(),
      roles: ["Viewer"],
    });
    const { token } = await createApiToken(db, "bench");

    // The 50 MB log of one try, where the runner would have written it.
    const lastRun = (
      await sql`select run_id from dag_run where dag_id = ${BIG_DAG} order by logical_date desc limit 1`.execute(
        db,
      )
    ).rows[0].run_id;
    const logFile = join(
      home,
      "logs",
      taskLogRelativePath({ dag_id: BIG_DAG, run_id: lastRun, task_id: "task_001", map_index: -1 }, 1),
    );
    mkdirSync(dirname(logFile), { recursive: true });
    const line = `[2026-01-01T00:00:00.000+0000] {task.py:1} INFO - ${"x".repeat(100)}\n`;
    writeFileSync(logFile, line.repeat(Math.ceil((50 * 1024 * 1024) / line.length)));

    server = createApiServer({
      database,
      config,
      events: null,
      secretKey: randomBytes(32).toString("base64url"),
    });
    const base = await server.listen(0, "127.0.0.1");

    const measure = async (name, goal, fn) => {
      if (!name.includes(values.only)) return;
      for (let i = 0; i < 5; i++) await fn(); // warm up: JIT, statement plans, connections
      const times = [];
      for (let i = 0; i < n; i++) times.push(await fn());
      const p50 = ms(pct(times, 50));
      const p95 = ms(pct(times, 95));
      const met = p95 <= goal;
      console.log(
        JSON.stringify({
          workload: "api",
          name,
          requests: n,
          p50_ms: p50,
          p95_ms: p95,
          goal_p95_ms: goal,
          met,
        }),
      );
      console.log(
        `${name}: p50 ${p50} ms, p95 ${p95} ms (goal p95 ≤ ${goal} ms: ${met ? "met" : "not met"})`,
      );
    };
    const ok = (r, what) => {
      if (r.status !== 200)
        throw new Error(`${what} answered ${r.status}: ${r.body.toString().slice(0, 300)}`);
      return r;
    };

    await measure("GET /dags?limit=100", 50, async () => {
      const r = ok(await timed(base, "GET", "/api/v1/dags?limit=100", token), "GET /dags");
      return r.totalMs;
    });
    await measure("latest 25 runs with their task instances", 150, async () => {
      const t0 = performance.now();
      const runsRes = ok(
        await timed(base, "GET", `/api/v1/dags/${BIG_DAG}/dagRuns?order_by=-execution_date&limit=25`, token),
        "GET dagRuns",
      );
      const ids = JSON.parse(runsRes.body).dag_runs.map((r) => r.dag_run_id);
      const pages = [0, 1000, 2000].map((offset) =>
        timed(base, "POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", token, {
          dag_ids: [BIG_DAG],
          dag_run_ids: ids,
          page_limit: 1000,
          page_offset: offset,
        }),
      );
      const got = (await Promise.all(pages)).map(
        (p) => JSON.parse(ok(p, "taskInstances/list").body).task_instances.length,
      );
      if (got.reduce((a, b) => a + b, 0) !== 25 * TASKS)
        throw new Error(`expected ${25 * TASKS} task instances, got ${got}`);
      return performance.now() - t0;
    });
    await measure("latest 25 runs with their task instances, Grid endpoint (1 call)", 150, async () => {
      const r = ok(await timed(base, "GET", `/api/v1/ui/grid/${BIG_DAG}?limit=25`, token), "GET ui/grid");
      const grid = JSON.parse(r.body);
      if (grid.dag_runs.length !== 25 || grid.task_instances.length !== 25 * TASKS)
        throw new Error(
          `expected 25 runs and ${25 * TASKS} cells, got ${grid.dag_runs.length}, ${grid.task_instances.length}`,
        );
      return r.totalMs;
    });
    await measure("last 100 runs' durations, landing times and tries, Durations endpoint", 150, async () => {
      const r = ok(
        await timed(base, "GET", `/api/v1/ui/durations/${BIG_DAG}?limit=100`, token),
        "GET ui/durations",
      );
      const d = JSON.parse(r.body);
      if (d.dag_runs.length !== 100 || d.tasks.length !== TASKS || d.tasks[0].duration.length !== 100)
        throw new Error(`expected 100 runs × ${TASKS} tasks, got ${d.dag_runs.length} × ${d.tasks.length}`);
      return r.totalMs;
    });
    const logPath = `/api/v1/dags/${BIG_DAG}/dagRuns/${encodeURIComponent(lastRun)}/taskInstances/task_001/logs/1`;
    await measure("50 MB log, first byte (text/plain, streamed)", 50, async () => {
      const r = ok(await timed(base, "GET", logPath, token, undefined, "text/plain"), "log text");
      if (r.body.length < 50 * 1024 * 1024) throw new Error(`log cut at ${r.body.length} bytes`);
      return r.firstByteMs;
    });
    await measure("50 MB log, first JSON chunk (1 MiB)", 50, async () => {
      const r = ok(await timed(base, "GET", logPath, token), "log json");
      return r.totalMs;
    });
  } finally {
    await server?.close();
    await database.close();
    await pgdb.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** A serialized DAG of `tasks` chained no-op tasks, valid for the API's DAG routes. */
export function bigDag(tasks) {
  const task = (id, i) => ({
    task_id: id,
    operator: "@task",
    task_group_id: null,
    upstream_task_ids: i === 0 ? [] : [tasks[i - 1]],
    downstream_task_ids: i === tasks.length - 1 ? [] : [tasks[i + 1]],
    trigger_rule: "all_success",
    owner: "data-eng",
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
  });
  return {
    __version: 1,
    dag_id: BIG_DAG,
    fileloc: "/dags/big.ts",
    description: null,
    schedule: "@hourly",
    timetable_summary: "@hourly",
    timezone: null,
    start_date: "2025-01-01T00:00:00.000Z",
    end_date: null,
    catchup: false,
    max_active_runs: null,
    max_active_tasks: null,
    dagrun_timeout_ms: null,
    tags: [],
    owners: ["data-eng"],
    params: {},
    doc_md: null,
    has_on_success_callback: false,
    has_on_failure_callback: false,
    has_sla_miss_callback: false,
    is_paused_upon_creation: null,
    task_groups: [],
    tasks: tasks.map(task),
    dag_hash: "bench",
  };
}
