// Several schedulers on one PostgreSQL database, with forced interleavings (RELIABILITY.md items
// 6 and 10), and runs that finish because each finish wakes the loop. PostgreSQL only: PGlite is one session, so two
// schedulers there can never overlap.
import { sql } from "kysely";
import { expect, it } from "vitest";
import { setPool, type Database } from "../../src/db/index.js";
import { withTestDatabases } from "../db-testing.js";
import { EngineEvents } from "../../src/events/engine-events.js";
import type { Scheduler } from "../../src/scheduler/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { newScheduler, poolUse, saveSdkDag, testConfig, TestExecutor } from "./helpers.js";

const noop = (): undefined => undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const WIDTH = 100;
const RUNS = 20;
const wide = dag(
  { dagId: "wide", maxActiveTasks: 50, maxActiveRuns: 25, defaultArgs: { pool: "ten" } },
  () => {
    for (let i = 0; i < WIDTH; i++) task(`t${i}`, noop)();
  },
);
const chain = dag({ dagId: "chain" }, () => {
  let prev = task("c0", noop)();
  for (let i = 1; i < 100; i++) prev = prev.before(task(`c${i}`, noop)());
});
const fan = dag({ dagId: "fan", maxActiveTasks: 200 }, () => {
  const mid = [];
  for (let i = 0; i < 200; i++) mid.push(task(`m${i}`, noop)());
  task("first", noop)().before(mid);
  task("last", noop)().after(mid);
});

/** Runs a test executor's workloads as they come, like warm runners would. */
function runnerLoop(exec: TestExecutor, stopped: () => boolean): Promise<void> {
  return (async () => {
    while (!stopped()) {
      const n = await exec.runAll();
      if (n === 0) await sleep(1);
    }
  })();
}

async function waitRuns(database: Database, dagId: string, n: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await sql<{ n: number }>`select count(*)::int as n from dag_run
      where dag_id = ${dagId} and state in ('success', 'failed')`.execute(database.db);
    if ((r.rows[0]?.n ?? 0) >= n) return;
    if (Date.now() > until) throw new Error(`runs of ${dagId} did not finish in ${timeoutMs} ms`);
    await sleep(10);
  }
}

withTestDatabases(
  "schedulers racing",
  (getDb) => {
    it("two schedulers over 2,000 task instances and a pool of 10: each try queued once, never over 10 slots", async () => {
      const database = getDb();
      await saveSdkDag(database, wide);
      await setPool(database.db, { pool: "ten", slots: 10 });
      const config = testConfig({ "core.parallelism": 16 });
      let claims = 0;
      let commits = 0;
      const schedulers: Scheduler[] = [];
      const executors: TestExecutor[] = [];
      const events: EngineEvents[] = [];
      for (let i = 0; i < 2; i++) {
        const ev = new EngineEvents(database);
        const exec = new TestExecutor(database, 16, ev);
        events.push(ev);
        executors.push(exec);
        schedulers.push(
          newScheduler(database, config, exec, {
            events: ev,
            hooks:
              i === 0
                ? // Pause while holding the pool lock and claimed rows: the other scheduler must wait or skip.
                  { afterClaim: async () => void (++claims % 3 === 0 && (await sleep(2))) }
                : { beforeQueueCommit: async () => void (++commits % 2 === 0 && (await sleep(1))) },
          }),
        );
      }
      let maxUse = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          maxUse = Math.max(maxUse, await poolUse(database, "ten"));
          await sleep(2);
        }
      })();
      let stopped = false;
      const runners = executors.map((e) => runnerLoop(e, () => stopped));
      for (const s of schedulers) await s.start();
      const started = Date.now();
      for (let r = 0; r < RUNS; r++) {
        await triggerDagRun(
          database.db,
          { dagId: "wide", runId: `r${r}`, logicalDate: new Date(Date.UTC(2024, 0, 1, r)) },
          { events: events[r % 2] ?? null },
        );
      }
      try {
        await waitRuns(database, "wide", RUNS, 60_000);
      } finally {
        stopped = true;
        sampling = false;
        await Promise.all(runners);
        await sampler;
        for (const s of schedulers) await s.stop();
        for (const e of events) await e.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      const tis = await sql<{ state: string; try_number: number; n: number }>`
          select state, try_number, count(*)::int as n from task_instance where dag_id = 'wide'
          group by state, try_number`.execute(database.db);
      expect(tis.rows).toEqual([{ state: "success", try_number: 1, n: WIDTH * RUNS }]);
      const history = await sql<{ n: number; tries: number }>`
          select count(*)::int as n, count(distinct (run_id, task_id, map_index))::int as tries
          from task_instance_history where dag_id = 'wide' and try_number = 1 and state = 'success'`.execute(
        database.db,
      );
      expect(history.rows[0]).toEqual({ n: WIDTH * RUNS, tries: WIDTH * RUNS });
      const total = await sql<{
        n: number;
      }>`select count(*)::int as n from task_instance_history where dag_id = 'wide'`.execute(database.db);
      expect(total.rows[0]?.n).toBe(WIDTH * RUNS);
      expect(maxUse).toBeLessThanOrEqual(10);
      expect(maxUse).toBe(10);
      // Both schedulers did work, and every workload was handed out once.
      const handed = executors.map((e) => e.all.length);
      expect(handed.every((n) => n > 0)).toBe(true);
      expect(handed.reduce((a, b) => a + b, 0)).toBe(WIDTH * RUNS);
      console.log(
        `two schedulers: ${WIDTH * RUNS} task instances in ${seconds.toFixed(2)} s (${Math.round((WIDTH * RUNS) / seconds)}/s), handed out ${handed.join(" + ")}, max pool use ${maxUse}`,
      );
    }, 90_000);

    it("runs a 100-task chain and a 1→200→1 fan event-driven", async () => {
      const database = getDb();
      await saveSdkDag(database, chain);
      await saveSdkDag(database, fan);
      // The periodic pass every 5 s is only the safety net: 100 edges waiting for it would take
      // minutes, so finishing within the waits below means each finish woke the scheduler.
      // (How fast it goes is for `npm run bench`: workloads chain100 and fan200.)
      const config = testConfig({ "scheduler.scheduler_heartbeat_sec": 5 });
      const ev = new EngineEvents(database);
      const exec = new TestExecutor(database, 64, ev);
      const s = newScheduler(database, config, exec, { events: ev });
      let stopped = false;
      const runner = runnerLoop(exec, () => stopped);
      await s.start();
      try {
        await triggerDagRun(
          database.db,
          { dagId: "chain", runId: "chain", logicalDate: new Date(Date.UTC(2024, 1, 1)) },
          { events: ev },
        );
        await waitRuns(database, "chain", 1, 30_000);
        await triggerDagRun(
          database.db,
          { dagId: "fan", runId: "fan", logicalDate: new Date(Date.UTC(2024, 1, 3)) },
          { events: ev },
        );
        await waitRuns(database, "fan", 1, 30_000);
      } finally {
        stopped = true;
        await runner;
        await s.stop();
        await ev.stop();
      }
      const runs = await sql<{ dag_id: string; state: string }>`
        select dag_id, state from dag_run where dag_id in ('chain', 'fan') order by dag_id`.execute(
        database.db,
      );
      expect(runs.rows).toEqual([
        { dag_id: "chain", state: "success" },
        { dag_id: "fan", state: "success" },
      ]);
      const tis = await sql<{ dag_id: string; state: string; try_number: number; n: number }>`
        select dag_id, state, try_number, count(*)::int as n from task_instance
        where dag_id in ('chain', 'fan') group by dag_id, state, try_number order by dag_id`.execute(
        database.db,
      );
      expect(tis.rows).toEqual([
        { dag_id: "chain", state: "success", try_number: 1, n: 100 },
        { dag_id: "fan", state: "success", try_number: 1, n: 202 },
      ]);
    }, 90_000);
  },
  { dialects: ["postgres"] },
);
