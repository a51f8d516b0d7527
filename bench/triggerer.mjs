// Workload "triggerer": N deferred TimeDeltaSensors (default 10,000) in ONE `updraft triggerer`
// process (the real binary from dist/, against a throwaway PostgreSQL). The deferred task
// instances and their DateTimeTriggers (what a deferrable TimeDeltaSensor stores) are seeded with
// SQL, due over a few seconds after the triggerer has claimed them all. Measured:
//   - resume latency: from a trigger's due time to its task instance being scheduled again
//     (deferred → scheduled, stamped by a database trigger with clock_timestamp()), p50/p99/max;
//   - the triggerer's memory: peak RSS while it holds all of them (sampled from /proc).
// The task's success after resuming is the scheduler's and a runner's ordinary work (start-to-
// finish figures: `npm run bench -- engine`), so it is not repeated here.
// Usage: npm run bench -- triggerer [--tasks N] [--spread-ms MS]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { throwawayPostgres } from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..", "packages", "updraft");
const load = (p) => import(pathToFileURL(join(pkg, "dist", p)).href);
const pct = (a, p) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: "string", default: "10000" },
      "spread-ms": { type: "string", default: "5000" },
    },
  });
  const n = Number(values.tasks);
  const spread = Number(values["spread-ms"]);
  const { loadConfig } = await load("config/index.js");
  const { openDatabase, migrate } = await load("db/index.js");
  const pg = await throwawayPostgres("bench_triggerer");
  const home = mkdtempSync(join(tmpdir(), "updraft-bench-triggerer-"));
  const database = await openDatabase(
    loadConfig({ env: { UPDRAFT_HOME: home }, overrides: { "database.sql_alchemy_conn": pg.url } }),
  );
  let child = null;
  try {
    await migrate(database);
    const db = database.db;
    await sql`create table resume_log (trigger_id int, at timestamptz not null)`.execute(db);
    await sql`create function log_resume() returns trigger language plpgsql as $$
      begin
        if old.state = 'deferred' and new.state = 'scheduled' then
          insert into resume_log values (old.trigger_id, clock_timestamp());
        end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger ti_resume after update on task_instance for each row execute function log_resume()`.execute(
      db,
    );
    // Due in a window that starts once the triggerer has surely claimed everything.
    const dueStart = Date.now() + 20_000;
    const due = Array.from({ length: n }, (_, i) =>
      new Date(dueStart + Math.floor((i * spread) / n)).toISOString(),
    );
    await sql`insert into dag (dag_id) values ('bench_triggerer')`.execute(db);
    await sql`insert into dag_run (dag_id, run_id, run_type, state) values ('bench_triggerer', 'r', 'manual', 'running')`.execute(
      db,
    );
    await sql`insert into trigger (id, classpath, kwargs)
      select ord::int, 'updraft.triggers.DateTimeTrigger', jsonb_build_object('moment', moment)
      from unnest(${due}::text[]) with ordinality as u(moment, ord)`.execute(db);
    await sql`insert into task_instance (dag_id, run_id, task_id, state, try_number, trigger_id, next_method, next_kwargs)
      select 'bench_triggerer', 'r', 'sensor_' || g, 'deferred', 0, g, 'executeComplete', '{}'::jsonb
      from generate_series(1, ${n}) g`.execute(db);

    const t0 = Date.now();
    child = spawn(process.execPath, [join(pkg, "bin", "updraft.js"), "triggerer"], {
      env: {
        ...process.env,
        UPDRAFT_HOME: home,
        UPDRAFT__CORE__DAGS_FOLDER: home,
        UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: pg.url,
        UPDRAFT__API__SECRET_KEY: "bench-triggerer-secret-0123456789",
        UPDRAFT__TRIGGERER__CAPACITY: String(n),
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    let claimedMs = null;
    let peak = 0;
    let heldRss = null;
    for (;;) {
      const r = await sql`select count(*)::int as held from trigger where triggerer_id is not null`.execute(
        db,
      );
      const rss = rssMb(child.pid);
      if (rss !== null) peak = Math.max(peak, rss);
      if (claimedMs === null && r.rows[0].held === n) {
        claimedMs = Date.now() - t0;
        await sleep(500);
        heldRss = rssMb(child.pid);
      }
      const done = await sql`select count(*)::int as c from resume_log`.execute(db);
      if (done.rows[0].c >= n) break;
      if (child.exitCode !== null || Date.now() > dueStart + spread + 120_000)
        throw new Error(`only ${done.rows[0].c} of ${n} resumed`);
      await sleep(100);
    }
    if (claimedMs === null || claimedMs > dueStart - t0)
      console.error(
        "warning: the triggerer claimed the triggers after the first were due; latencies include the claim",
      );
    const rows =
      await sql`select r.trigger_id, extract(epoch from r.at) * 1000 as at from resume_log r`.execute(db);
    const lat = rows.rows.map((r) => Number(r.at) - Date.parse(due[r.trigger_id - 1]));
    const out = {
      workload: "triggerer",
      tasks: n,
      spread_ms: spread,
      claim_all_ms: claimedMs,
      resume_p50_ms: Math.round(pct(lat, 50) * 10) / 10,
      resume_p99_ms: Math.round(pct(lat, 99) * 10) / 10,
      resume_max_ms: Math.round(Math.max(...lat) * 10) / 10,
      rss_holding_mb: heldRss === null ? null : Math.round(heldRss),
      rss_peak_mb: Math.round(peak),
    };
    console.log(JSON.stringify(out));
    console.log(
      `triggerer: ${n} deferred TimeDeltaSensors in one triggerer — claimed all in ${claimedMs} ms; resume latency (due → scheduled) p50 ${out.resume_p50_ms} ms, p99 ${out.resume_p99_ms} ms, max ${out.resume_max_ms} ms; RSS ${out.rss_holding_mb} MB holding them, peak ${out.rss_peak_mb} MB`,
    );
  } finally {
    if (child !== null && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
    await database.close();
    await pg.drop();
    rmSync(home, { recursive: true, force: true });
  }
}
