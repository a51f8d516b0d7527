import { sql } from "kysely";
import { expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { backfillStatus, createBackfill } from "../../src/scheduler/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { newScheduler, saveSdkDag, testConfig, TestExecutor } from "./helpers.js";

const noop = (): undefined => undefined;
const daily = dag({ dagId: "daily", schedule: "@daily", startDate: "2030-01-01", catchup: false }, () => {
  task("t", noop)();
});
const single = dag({ dagId: "single" }, () => {
  task("t", noop)();
});

withTestDatabases("backfill, adoption and lost tries", (getDb) => {
  const config = testConfig();

  it("backfills every logical date, at most maxActiveRuns running, skipping existing runs", async () => {
    await saveSdkDag(getDb(), daily);
    const db = getDb().db;
    // An existing (failed) run inside the range is skipped unless rerunFailed.
    await triggerDagRun(db, {
      dagId: "daily",
      runId: "manual_existing",
      logicalDate: new Date("2024-01-03T00:00:00Z"),
    });
    await sql`update dag_run set state = 'failed' where run_id = 'manual_existing'`.execute(db);
    const b = await createBackfill(getDb(), {
      dagId: "daily",
      fromDate: new Date("2024-01-01T00:00:00Z"),
      toDate: new Date("2024-01-06T00:00:00Z"),
      maxActiveRuns: 2,
    });
    expect(b).toMatchObject({ created: 5, rerun: 0, skipped: 1 });
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    for (let i = 0; i < 20; i++) {
      await s.runOnce();
      const st = await backfillStatus(getDb(), b.backfillId);
      expect(st.running).toBeLessThanOrEqual(2);
      if (st.done) break;
      await exec.runAll();
    }
    const status = await backfillStatus(getDb(), b.backfillId);
    expect(status).toMatchObject({ total: 5, success: 5, failed: 0, done: true });
    expect(status.runs.map((r) => r.run_id)[0]).toBe("backfill__2024-01-01T00:00:00+00:00");
    const byRange = await backfillStatus(getDb(), {
      dagId: "daily",
      fromDate: new Date("2024-01-01T00:00:00Z"),
      toDate: new Date("2024-01-31T00:00:00Z"),
    });
    expect(byRange.total).toBe(5);
    const rerun = await createBackfill(getDb(), {
      dagId: "daily",
      fromDate: new Date("2024-01-03T00:00:00Z"),
      toDate: new Date("2024-01-03T00:00:00Z"),
      rerunFailed: true,
    });
    expect(rerun).toMatchObject({ created: 0, rerun: 1, runIds: ["manual_existing"] });
  });

  // A try queued but never started uses up no attempt (issue 7; Airflow's try_number counts
  // attempts that started): adopted, it is queued again as the same try, and of the two workloads
  // for it exactly one can start it.
  it("adopts what a stopped scheduler left queued: the same try again, started once", async () => {
    await saveSdkDag(getDb(), single);
    const db = getDb().db;
    const execA = new TestExecutor(getDb());
    const a = newScheduler(getDb(), config, execA);
    await a.start();
    await triggerDagRun(db, {
      dagId: "single",
      runId: "adopt",
      logicalDate: new Date("2024-02-01T00:00:00Z"),
    });
    for (let i = 0; i < 200 && execA.pending.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(execA.pending).toHaveLength(1);
    await a.stop();
    const execB = new TestExecutor(getDb());
    const b = newScheduler(getDb(), config, execB);
    await b.start();
    await b.stop();
    const ti = await db
      .selectFrom("task_instance")
      .select(["state", "try_number"])
      .where("run_id", "=", "adopt")
      .executeTakeFirstOrThrow();
    expect(ti).toEqual({ state: "queued", try_number: 1 });
    expect(execB.all).toHaveLength(1);
    expect(execB.all[0]?.try_number).toBe(1);
    // The old workload reaches a runner first here: it starts the try; the new copy is refused.
    await expect(execA.startAll()).resolves.toHaveLength(1);
    await expect(execB.startAll()).rejects.toMatchObject({ code: "TI_CONFLICT" });
  });

  it("settles a try the executor reports lost at once", async () => {
    const db = getDb().db;
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    await triggerDagRun(db, {
      dagId: "single",
      runId: "lost",
      logicalDate: new Date("2024-03-01T00:00:00Z"),
    });
    await s.runOnce();
    const [w] = await exec.startAll();
    expect(w).toBeDefined();
    // As the executor's event would (runOnce subscribes to nothing): the scheduler notes it for its pass.
    (s as unknown as { pending: { onExecutorEvent(e: unknown): void } }).pending.onExecutorEvent({
      type: "lost",
      kind: "task",
      ti: w?.ti,
      try_number: w?.try_number,
      reason: "killed by SIGKILL",
    });
    await s.runOnce();
    const ti = await db
      .selectFrom("task_instance")
      .select(["state"])
      .where("run_id", "=", "lost")
      .executeTakeFirstOrThrow();
    expect(ti.state).toBe("failed");
    const run = await db
      .selectFrom("dag_run")
      .select("state")
      .where("run_id", "=", "lost")
      .executeTakeFirstOrThrow();
    expect(run.state).toBe("failed");
  });
});
