// Task SLAs on a timer: a miss is recorded while the task has not even run, within a second of
// its deadline (the scheduler's periodic pass is a minute away), once with two schedulers, with
// one slaMissCallback, one notification for the task's addresses, and listed by the REST API.
import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";
import { setPool } from "../../src/db/index.js";
import type { Scheduler } from "../../src/scheduler/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { API_TOKEN, startTestServer, triggerTestRun } from "../api/helpers.js";
import { withTestDatabases } from "../db-testing.js";
import { newScheduler, saveSdkDag, testConfig, TestExecutor } from "./helpers.js";

const noop = (): undefined => undefined;
const SLA_MS = 600;
const slaDag = dag(
  {
    dagId: "sla_dag",
    slaMissCallback: noop,
    defaultArgs: { email: ["ops@example.com"] },
  },
  () => {
    task({ taskId: "slow", sla: SLA_MS }, noop)();
    task({ taskId: "relaxed", sla: "1h" }, noop)();
    task("no_sla", noop)();
  },
);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

withTestDatabases("task SLAs", (getDb) => {
  const running: Scheduler[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it("records a miss within a second of the deadline, once across two schedulers, while the task waits", async () => {
    const database = getDb();
    await saveSdkDag(database, slaDag);
    await triggerTestRun(database, "sla_dag", "2024-05-01T00:00:00Z");
    // The periodic pass is a minute away: only the SLA timer can see the deadline in time.
    const config = testConfig({ "scheduler.scheduler_heartbeat_sec": 60 });
    const executors = [new TestExecutor(database), new TestExecutor(database)];
    for (const exec of executors) {
      const scheduler = newScheduler(database, config, exec);
      running.push(scheduler);
      await scheduler.start();
    }
    let misses: { task_id: string; late_ms: number }[] = [];
    for (let i = 0; i < 60 && misses.length === 0; i++) {
      await sleep(50);
      misses = (
        await sql<{ task_id: string; late_ms: number }>`
          select task_id, extract(epoch from (timestamp - deadline)) * 1000 as late_ms
          from sla_miss where dag_id = 'sla_dag'`.execute(database.db)
      ).rows;
    }
    await sleep(300); // a second scheduler's late insert would show by now
    const all = await database.db
      .selectFrom("sla_miss")
      .selectAll()
      .where("dag_id", "=", "sla_dag")
      .execute();
    expect(all.map((m) => m.task_id)).toEqual(["slow"]);
    expect(Number(misses[0]?.late_ms)).toBeLessThan(1000);
    expect(Number(misses[0]?.late_ms)).toBeGreaterThanOrEqual(0);
    // The task never ran: the miss was seen while it waited.
    const slow = await database.db
      .selectFrom("task_instance")
      .select("state")
      .where("dag_id", "=", "sla_dag")
      .where("task_id", "=", "slow")
      .executeTakeFirstOrThrow();
    expect(slow.state).not.toBe("success");
    const callbacks = executors.flatMap((e) => e.callbacks).filter((w) => w.kind === "callback");
    expect(callbacks.map((w) => (w as { callback: string }).callback)).toEqual(["sla_miss"]);
    const notices = await database.db
      .selectFrom("notification")
      .select(["kind", "task_id"])
      .where("dag_id", "=", "sla_dag")
      .execute();
    expect(notices).toEqual([{ kind: "sla_miss", task_id: "slow" }]);
    const t = await startTestServer(database);
    const listed = await t.server.app.inject({
      url: "/api/v1/slaMisses?dag_id=sla_dag",
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    await t.server.close();
    expect(listed.json()).toMatchObject({
      total_entries: 1,
      sla_misses: [{ dag_id: "sla_dag", task_id: "slow", dag_run_id: "manual__2024-05-01T00:00:00+00:00" }],
    });
  });

  it("records no miss for a task done before its deadline, though its run still runs", async () => {
    const database = getDb();
    // "held" waits on a pool without slots, so the run stays running past quick's deadline.
    await setPool(database.db, { pool: "closed", slots: 0 });
    await saveSdkDag(
      database,
      dag({ dagId: "sla_done" }, () => {
        task({ taskId: "quick", sla: "2s" }, noop)();
        task({ taskId: "held", pool: "closed" }, noop)();
      }),
    );
    await triggerTestRun(database, "sla_done", "2024-05-02T00:00:00Z");
    const exec = new TestExecutor(database);
    const scheduler = newScheduler(database, testConfig({ "scheduler.scheduler_heartbeat_sec": 60 }), exec);
    running.push(scheduler);
    await scheduler.start();
    const quick = () =>
      database.db
        .selectFrom("task_instance")
        .select(["state", "end_date"])
        .where("dag_id", "=", "sla_done")
        .where("task_id", "=", "quick")
        .executeTakeFirstOrThrow();
    const run = await database.db
      .selectFrom("dag_run")
      .select("start_date")
      .where("dag_id", "=", "sla_done")
      .executeTakeFirstOrThrow();
    for (let i = 0; i < 100 && (await quick()).state !== "success"; i++) {
      await exec.runAll();
      await sleep(20);
    }
    const done = await quick();
    expect(done.state).toBe("success");
    const deadline = (run.start_date?.getTime() ?? Date.now()) + 2000;
    // Only meaningful when the task was done in time (it is, unless the machine stalls for 2 s).
    expect(done.end_date?.getTime() ?? Infinity).toBeLessThan(deadline);
    await sleep(Math.max(0, deadline - Date.now()) + 500);
    expect(
      (
        await database.db
          .selectFrom("dag_run")
          .select("state")
          .where("dag_id", "=", "sla_done")
          .executeTakeFirstOrThrow()
      ).state,
    ).toBe("running");
    expect(
      await database.db.selectFrom("sla_miss").select("task_id").where("dag_id", "=", "sla_done").execute(),
    ).toEqual([]);
  });
});
