// Several triggerers share the work safely (decision 0030): a triggerer (a real `updraft triggerer`
// process) is SIGKILLed while it holds 1,000 deferred tasks' triggers, some already fired; a second
// one takes the rest over once the first's heartbeat is stale. Every task resumes exactly once —
// counted by a database trigger on the deferred → scheduled change. Needs dist/ (npm run build).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { migrate, openDatabase, type Database } from "../../src/db/index.js";
import { createThrowawayDatabase, type ThrowawayDatabase } from "../db-testing.js";
import { UPDRAFT_BIN } from "../helpers.js";
import { seedDeferred } from "./seed-deferred.js";

const COUNT = 1000;
const EARLY = 300;
let meta: ThrowawayDatabase;
let database: Database;
const home = mkdtempSync(join(tmpdir(), "updraft-takeover-"));
const children: ChildProcess[] = [];
let stderr = "";

function triggerer(): ChildProcess {
  const child = spawn(process.execPath, [UPDRAFT_BIN, "triggerer"], {
    env: {
      ...process.env,
      UPDRAFT_HOME: home,
      UPDRAFT__CORE__DAGS_FOLDER: home,
      UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: meta.url,
      UPDRAFT__API__SECRET_KEY: "takeover-secret-key-0123456789",
      UPDRAFT__TRIGGERER__STALE_AFTER: "2",
      UPDRAFT__TRIGGERER__HEARTBEAT_INTERVAL: "0.5",
      UPDRAFT__TRIGGERER__POLL_INTERVAL: "0.2",
      UPDRAFT__TRIGGERER__CAPACITY: "5000",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // What it logged, shown when the test fails.
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  children.push(child);
  return child;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for ${what}. Triggerers' log:\n${stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function count(query: ReturnType<typeof sql<{ n: number }>>): Promise<number> {
  return (await query.execute(database.db)).rows[0]?.n ?? -1;
}

beforeAll(async () => {
  meta = await createThrowawayDatabase();
  database = await openDatabase(
    loadConfig({ env: { UPDRAFT_HOME: home }, overrides: { "database.sql_alchemy_conn": meta.url } }),
  );
  await migrate(database);
  await sql`create table resume_log (task_id text not null, at timestamptz not null default now())`.execute(
    database.db,
  );
  await sql`create function log_resume() returns trigger language plpgsql as $$
    begin
      if old.state = 'deferred' and new.state = 'scheduled' then insert into resume_log (task_id) values (new.task_id); end if;
      return new;
    end $$`.execute(database.db);
  await sql`create trigger ti_resume after update on task_instance for each row execute function log_resume()`.execute(
    database.db,
  );
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await database?.close();
  await meta?.drop();
  rmSync(home, { recursive: true, force: true });
});

describe("triggerer takeover", () => {
  test("a SIGKILLed triggerer's 1,000 triggers are taken over: none lost, none resumed twice", async () => {
    const t0 = Date.now();
    // The first 300 fire while the first triggerer lives; the others are due only after it is killed
    // (moved closer then, so that the test does not wait on a slow machine's clock).
    await seedDeferred(
      database.db,
      "takeover",
      COUNT,
      (i) => new Date(t0 + (i <= EARLY ? 3_000 : 3_600_000)),
    );
    const a = triggerer();
    // Every trigger is held by it, or already fired: on a loaded machine the claim can come after
    // the early ones are due, and they fire (and are deleted) before this probe looks.
    const aJob = await until("the first triggerer to claim every trigger", async () => {
      const r = await sql<{ triggerer_id: number | null; n: number }>`
        select triggerer_id, count(*)::int as n from trigger group by triggerer_id`.execute(database.db);
      const fired = await count(sql`select count(*)::int as n from resume_log`);
      return r.rows.length === 1 && r.rows[0]?.triggerer_id != null && r.rows[0].n + fired === COUNT
        ? r.rows[0].triggerer_id
        : undefined;
    });
    await until("the early triggers to fire and be deleted", async () =>
      (await count(sql`select count(*)::int as n from resume_log`)) === EARLY &&
      (await count(sql`select count(*)::int as n from trigger`)) === COUNT - EARLY
        ? true
        : undefined,
    );
    a.kill("SIGKILL");
    await new Promise((r) => a.once("exit", r));
    // Still held by the dead triggerer until its heartbeat is stale.
    expect(await count(sql`select count(*)::int as n from trigger where triggerer_id = ${aJob}`)).toBe(
      COUNT - EARLY,
    );
    const soon = new Date(Date.now() + 1000).toISOString();
    await sql`update trigger set kwargs = jsonb_build_object('moment', ${soon}::text)`.execute(database.db);
    const b = triggerer();
    await until("every task to resume", async () =>
      (await count(sql`select count(*)::int as n from task_instance where state = 'scheduled'`)) === COUNT
        ? true
        : undefined,
    );
    // Give a duplicate a chance to show up before counting.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count(sql`select count(*)::int as n from resume_log`)).toBe(COUNT);
    expect(await count(sql`select count(distinct task_id)::int as n from resume_log`)).toBe(COUNT);
    expect(await count(sql`select count(*)::int as n from trigger`)).toBe(0);
    // Each resumed task carries its event.
    expect(
      await count(
        sql`select count(*)::int as n from task_instance where next_kwargs->'event'->>'status' = 'success'`,
      ),
    ).toBe(COUNT);
    // The second triggerer is another job; the first's job row stays as it was left (running, stale).
    const jobs = await sql<{
      id: number;
    }>`select id from job where job_type = 'triggerer' order by id`.execute(database.db);
    expect(jobs.rows.map((j) => j.id)).toContain(aJob);
    expect(jobs.rows.length).toBe(2);
    b.kill("SIGTERM");
    await new Promise((r) => b.once("exit", r));
  }, 120_000);
});
