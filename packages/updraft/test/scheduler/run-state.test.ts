// What decides a run's end and what follows: teardowns with onFailureFailDagrun, failStop,
// maxConsecutiveFailedDagRuns, on real PostgreSQL.
import { expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { dag, task, type Dag } from "../../src/sdk/index.js";
import { sql } from "kysely";
import { EngineEvents, type EngineEvent } from "../../src/events/engine-events.js";
import { finishTaskInstance, heartbeatTaskInstance, triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import {
  drive,
  newScheduler,
  saveSdkDag,
  testConfig,
  TestExecutor,
  tiStates,
  type Decide,
} from "./helpers.js";

const noop = (): undefined => undefined;

function teardownDag(dagId: string, onFailureFailDagrun?: boolean): Dag {
  return dag({ dagId }, () => {
    const setup = task.setup("create", noop)();
    const work = task("work", noop)();
    const opts = onFailureFailDagrun === undefined ? {} : { onFailureFailDagrun };
    const td = task.teardown({ taskId: "delete", ...opts }, noop)();
    setup.before(work).before(td);
  });
}

let hour = 0;
async function run(database: Database, d: Dag, decide?: Decide) {
  await saveSdkDag(database, d);
  const exec = new TestExecutor(database);
  const s = newScheduler(database, testConfig(), exec);
  const ref = { dagId: d.dagId, runId: `r${++hour}` };
  await triggerDagRun(database.db, { ...ref, logicalDate: new Date(Date.UTC(2024, 0, 1, hour)) });
  const state = await drive(database, s, exec, ref, decide);
  return { state, tis: await tiStates(database, ref), exec, scheduler: s };
}

const failTeardown: Decide = (w) =>
  w.ti.task_id === "delete" ? { state: "failed", error: "cleanup broke" } : { state: "success" };

withTestDatabases(
  "run state",
  (getDb) => {
    // airflow/models/dagrun.py DagRun._tis_for_dagrun_state (is_effective_leaf): a teardown does
    // not count for the run's state unless it has on_failure_fail_dagrun.
    it("a failed teardown does not fail the run by default", async () => {
      const r = await run(getDb(), teardownDag("td_default"), failTeardown);
      expect(r.tis).toEqual({ create: "success", work: "success", delete: "failed" });
      expect(r.state).toBe("success");
    });

    it("a failed teardown with onFailureFailDagrun fails the run", async () => {
      const r = await run(getDb(), teardownDag("td_fails", true), failTeardown);
      expect(r.tis).toEqual({ create: "success", work: "success", delete: "failed" });
      expect(r.state).toBe("failed");
      const ok = await run(getDb(), teardownDag("td_fails", true));
      expect(ok.state).toBe("success");
    });

    it("accepts onFailureFailDagrun on asTeardown too", () => {
      const d = dag({ dagId: "td_as" }, () => {
        task("t", noop)().asTeardown({ onFailureFailDagrun: true });
      });
      expect(d.tasks.get("t")?.onFailureFailDagrun).toBe(true);
      expect(() =>
        dag(
          { dagId: "td_bad" },
          () => void task({ taskId: "x", onFailureFailDagrun: true } as never, noop)(),
        ),
      ).toThrow(/unknown option "onFailureFailDagrun"/);
    });

    // airflow/models/taskinstance.py _stop_remaining_tasks (fail_stop): when an instance fails,
    // every other instance not success or failed and not of a teardown is failed if running,
    // skipped otherwise; teardowns still run.
    it("failStop fails running instances and skips the rest when one fails", async () => {
      const database = getDb();
      const d = dag({ dagId: "fail_stop", failStop: true }, () => {
        task("boom", noop)();
        const slow = task("slow", noop)();
        slow.before(task("later", noop)());
        slow.before(task.teardown("td", noop)());
      });
      await saveSdkDag(database, d);
      const exec = new TestExecutor(database);
      const s = newScheduler(database, testConfig(), exec);
      const ref = { dagId: "fail_stop", runId: "fs1" };
      await triggerDagRun(database.db, { ...ref, logicalDate: new Date(Date.UTC(2024, 0, 1)) });
      await s.runOnce();
      const started = await exec.startAll();
      expect(started.map((w) => w.ti.task_id).sort()).toEqual(["boom", "slow"]);
      const boom = started.find((w) => w.ti.task_id === "boom")!;
      const slow = started.find((w) => w.ti.task_id === "slow")!;
      await exec.finish(boom, { state: "failed", error: "boom" });
      await s.runOnce();
      expect(await tiStates(database, ref)).toEqual({
        boom: "failed",
        slow: "failed",
        later: "skipped",
        td: "queued",
      });
      const hist = await database.db
        .selectFrom("task_instance_history")
        .select(["state", "error"])
        .where("run_id", "=", "fs1")
        .where("task_id", "=", "slow")
        .executeTakeFirstOrThrow();
      expect(hist.state).toBe("failed");
      expect(hist.error).toMatch(/failStop/);
      // The stopped try's runner learns it at its next heartbeat.
      await expect(
        heartbeatTaskInstance(
          database.db,
          {
            ti: slow.ti,
            try_number: slow.try_number,
            exp: Math.floor(Date.now() / 1000) + 60,
            scope: "task",
          },
          { hostname: "test", pid: 1 },
        ),
      ).rejects.toMatchObject({ code: "TI_CONFLICT" });
      expect(await drive(database, s, exec, ref)).toBe("failed");
      expect((await tiStates(database, ref)).td).toBe("success");
    });

    it("without failStop, the other branch goes on after a failure", async () => {
      const d = dag({ dagId: "no_fail_stop" }, () => {
        task("boom", noop)();
        task("slow", noop)().before(task("later", noop)());
      });
      const r = await run(getDb(), d, (w) =>
        w.ti.task_id === "boom" ? { state: "failed" } : { state: "success" },
      );
      expect(r.tis).toEqual({ boom: "failed", slow: "success", later: "success" });
    });

    // airflow/exceptions.py FailStopDagInvalidTriggerRule: fail_stop needs all_success everywhere.
    it("refuses failStop with a trigger rule other than all_success", () => {
      expect(() =>
        dag({ dagId: "fs_bad", failStop: true }, () => {
          task("a", noop)().before(task({ taskId: "b", triggerRule: "all_done" }, noop)());
        }),
      ).toThrow(
        /failStop: true, which needs every task to use the trigger rule "all_success", but "b" uses "all_done"/,
      );
      // A teardown's own trigger rule is fine.
      expect(() =>
        dag({ dagId: "fs_ok", failStop: true }, () => void task.teardown("td", noop)()),
      ).not.toThrow();
    });

    // airflow/models/dagrun.py DagRun.update_state → _check_last_n_dagruns_failed: when a run
    // fails and the DAG's last max_consecutive_failed_dag_runs runs (by logical date) all failed,
    // the DAG is paused. A success in between resets the count.
    it("pauses a DAG after maxConsecutiveFailedDagRuns failed runs, saying why", async () => {
      const database = getDb();
      const d = dag({ dagId: "flaky_dag", maxConsecutiveFailedDagRuns: 2 }, () => void task("t", noop)());
      const fail: Decide = () => ({ state: "failed", error: "no" });
      const paused = async () =>
        (
          await database.db
            .selectFrom("dag")
            .select("is_paused")
            .where("dag_id", "=", "flaky_dag")
            .executeTakeFirstOrThrow()
        ).is_paused;
      expect((await run(database, d, fail)).state).toBe("failed");
      expect(await paused()).toBe(false);
      expect((await run(database, d)).state).toBe("success");
      expect((await run(database, d, fail)).state).toBe("failed");
      expect(await paused()).toBe(false); // failed, success, failed: not two in a row
      expect((await run(database, d, fail)).state).toBe("failed");
      expect(await paused()).toBe(true);
      const log = await database.db
        .selectFrom("log")
        .select(["event", "extra"])
        .where("dag_id", "=", "flaky_dag")
        .where("event", "=", "dag_paused")
        .execute();
      expect(log).toHaveLength(1);
      expect(log[0]?.extra).toContain("last 2 DAG runs failed");
    });

    // Same rule with the DAG's default from core.max_consecutive_failed_dag_runs_per_dag (0 = off).
    it("takes the limit from core.max_consecutive_failed_dag_runs_per_dag, 0 meaning never", async () => {
      const database = getDb();
      const fail: Decide = () => ({ state: "failed" });
      const isPaused = async (dagId: string) =>
        (
          await database.db
            .selectFrom("dag")
            .select("is_paused")
            .where("dag_id", "=", dagId)
            .executeTakeFirstOrThrow()
        ).is_paused;
      for (const [dagId, setting] of [
        ["by_config", 1],
        ["config_off", 0],
      ] as const) {
        const d = dag({ dagId }, () => void task("t", noop)());
        await saveSdkDag(database, d);
        const exec = new TestExecutor(database);
        const s = newScheduler(
          database,
          testConfig({ "core.max_consecutive_failed_dag_runs_per_dag": setting }),
          exec,
        );
        const ref = { dagId, runId: `r${++hour}` };
        await triggerDagRun(database.db, { ...ref, logicalDate: new Date(Date.UTC(2024, 0, 1, hour)) });
        expect(await drive(database, s, exec, ref, fail)).toBe("failed");
      }
      expect(await isPaused("by_config")).toBe(true);
      expect(await isPaused("config_off")).toBe(false);
    });

    it("the last two tries of a run finishing at once still ask for the run check", async () => {
      // Each finish statement reads the other try as still running (neither sees the other's
      // uncommitted end), so neither asked for the run check: the run ended only at the periodic
      // pass. Made deterministic: a lock holds a's statement after it took its snapshot while b
      // finishes and commits.
      const database = getDb();
      const d = dag({ dagId: "last_two", maxActiveTasks: 8 }, () => {
        task("a", noop)();
        task("b", noop)();
      });
      await saveSdkDag(database, d);
      const exec = new TestExecutor(database);
      const s = newScheduler(database, testConfig(), exec);
      const ref = { dagId: "last_two", runId: `r${++hour}` };
      await triggerDagRun(database.db, { ...ref, logicalDate: new Date(Date.UTC(2024, 0, 1, hour)) });
      await s.runOnce();
      const [a, b] = (await exec.startAll()).sort((x, y) => x.ti.task_id.localeCompare(y.ti.task_id));
      if (a === undefined || b === undefined) throw new Error("both tries should have started");
      const events = new EngineEvents(database);
      const seen: EngineEvent[] = [];
      events.on((e) => seen.push(e));
      const claims = (w: typeof a) => ({
        ti: w.ti,
        try_number: w.try_number,
        exp: Math.floor(Date.now() / 1000) + 3600,
        scope: "task" as const,
      });
      let finishA: Promise<unknown> = Promise.resolve();
      await database.db.transaction().execute(async (trx) => {
        await sql`select 1 from task_instance where dag_id = 'last_two' and run_id = ${ref.runId}
          and task_id = 'a' for update`.execute(trx);
        finishA = finishTaskInstance(database.db, claims(a), { state: "success" }, { events });
        for (let waited = 0; ; waited++) {
          const r = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like '%ended%'`.execute(
            database.db,
          );
          if ((r.rows[0]?.n ?? 0) > 0) break;
          if (waited > 500) throw new Error("a's finish never waited for the lock");
          await new Promise((r) => setTimeout(r, 10));
        }
        await finishTaskInstance(database.db, claims(b), { state: "success" }, { events });
      });
      await finishA;
      expect(seen.filter((e) => e.type === "ti_finished" && e.run_check)).not.toEqual([]);
    });
  },
  { dialects: ["postgres"] },
);
