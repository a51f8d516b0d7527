import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setPool, setXcom } from "../../src/db/index.js";
import { withTestDatabases } from "../db-testing.js";
import { dag, EmptyOperator, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import {
  drive,
  newScheduler,
  poolUse,
  runState,
  saveSdkDag,
  testConfig,
  TestExecutor,
  tiKey,
  tiStates,
} from "./helpers.js";

const noop = (): undefined => undefined;

const rulesDag = dag({ dagId: "rules" }, () => {
  const branch = task.branch("branch", () => "a")();
  const a = task("a", noop)();
  const b = task("b", noop)();
  branch.before([a, b]);
  const join = task({ taskId: "join", triggerRule: "none_failed_min_one_success" }, noop)();
  join.after([a, b]);
  task("after_b", noop)().after(b);
  task({ taskId: "all_skipped", triggerRule: "all_skipped" }, noop)().after(b);
  new EmptyOperator({ taskId: "empty" }).after(a);
  const boom = task("boom", noop)();
  task({ taskId: "on_fail", triggerRule: "one_failed" }, noop)().after(boom);
  task({ taskId: "done", triggerRule: "all_done" }, noop)().after(boom);
  const needsSuccess = task("needs_success", noop)();
  needsSuccess.after(boom);
  task({ taskId: "always", triggerRule: "always" }, noop)().after(needsSuccess);
});

const retryDag = dag({ dagId: "retry", defaultArgs: { retries: 2, retryDelay: 400 } }, () => {
  task("flaky", noop)();
});

const mapDag = dag({ dagId: "mapped" }, () => {
  const produce = task("produce", (): number[] => [])();
  const each = task("each", (_ctx, n: number) => n).expand(produce);
  task("collect", noop)().after(each);
});

const poolDag = dag({ dagId: "pooled", defaultArgs: { pool: "two" } }, () => {
  for (let i = 0; i < 10; i++) task(`t${i}`, noop)();
});

const limitedDag = dag({ dagId: "limited", maxActiveTasks: 3 }, () => {
  for (let i = 0; i < 10; i++) task(`t${i}`, noop)();
});

const timeoutDag = dag({ dagId: "timeout", dagrunTimeout: 60_000 }, () => {
  task("slow", noop)().before(task("next", noop)());
});

const DAY = 86_400_000;
const startDate = new Date(Math.floor(Date.now() / DAY) * DAY - 3 * DAY).toISOString();
const catchupDag = dag(
  { dagId: "catchup", schedule: "@daily", startDate, catchup: true, maxActiveRuns: 2 },
  () => {
    task("t", noop)();
  },
);
const noCatchupDag = dag({ dagId: "no_catchup", schedule: "@daily", startDate, catchup: false }, () => {
  task("t", noop)();
});

let counter = 0;

withTestDatabases("scheduler", (getDb) => {
  const config = testConfig();
  beforeAll(async () => {
    for (const d of [rulesDag, retryDag, mapDag, poolDag, limitedDag, timeoutDag])
      await saveSdkDag(getDb(), d);
    await setPool(getDb().db, { pool: "two", slots: 2 });
  });

  async function trigger(dagId: string): Promise<{ dagId: string; runId: string }> {
    const runId = `run_${++counter}`;
    await triggerDagRun(getDb().db, {
      dagId,
      runId,
      logicalDate: new Date(Date.UTC(2024, 0, 1, 0, 0, counter)),
    });
    return { dagId, runId };
  }

  it("applies trigger rules end to end, with skips propagating from a branch", async () => {
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    const run = await trigger("rules");
    const state = await drive(getDb(), s, exec, run, (w) => {
      if (w.ti.task_id === "branch") return { state: "success", follow_task_ids: ["a"] };
      if (w.ti.task_id === "boom") return { state: "failed", error: "boom" };
      return { state: "success" };
    });
    expect(await tiStates(getDb(), run)).toEqual({
      branch: "success",
      a: "success",
      b: "skipped",
      join: "success",
      after_b: "skipped",
      all_skipped: "success",
      empty: "success",
      boom: "failed",
      on_fail: "success",
      done: "success",
      needs_success: "upstream_failed",
      always: "success",
    });
    // Every effective leaf succeeded or was skipped: Airflow calls that a success.
    expect(state).toBe("success");
    // EmptyOperator never went to the executor, and counts as its first try (Airflow 2.10
    // dagrun.py schedule_tis: the "dummy" instances are set to success with try_number + 1).
    expect(exec.all.some((w) => w.ti.task_id === "empty")).toBe(false);
    const empty = await getDb()
      .db.selectFrom("task_instance")
      .select(["try_number", "state"])
      .where("run_id", "=", run.runId)
      .where("task_id", "=", "empty")
      .executeTakeFirstOrThrow();
    expect(empty).toEqual({ try_number: 1, state: "success" });
  });

  it("retries with a delay: up_for_retry, scheduled once the delay passed, then success", async () => {
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    const run = await trigger("retry");
    await s.runOnce();
    await exec.runAll(() => ({ state: "failed", error: "first try fails" }));
    await s.runOnce();
    expect((await tiStates(getDb(), run))["flaky"]).toBe("up_for_retry");
    expect(exec.pending).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 450));
    await s.runOnce();
    expect(exec.pending).toHaveLength(1);
    expect(exec.pending[0]?.kind === "task" && exec.pending[0].try_number).toBe(2);
    expect(await drive(getDb(), s, exec, run)).toBe("success");
    const tries = await getDb()
      .db.selectFrom("task_instance_history")
      .select(["try_number", "state"])
      .where("run_id", "=", run.runId)
      .orderBy("try_number")
      .execute();
    expect(tries).toEqual([
      { try_number: 1, state: "up_for_retry" },
      { try_number: 2, state: "success" },
    ]);
  });

  it("expands a mapped task over an upstream XCom list, and skips it for an empty list", async () => {
    for (const [list, expected] of [
      [[10, 20, 30], "success"],
      [[], "skipped"],
    ] as const) {
      const exec = new TestExecutor(getDb());
      const s = newScheduler(getDb(), config, exec);
      const run = await trigger("mapped");
      const state = await drive(getDb(), s, exec, run, async (w) => {
        if (w.ti.task_id === "produce") {
          await setXcom(
            getDb().db,
            { dagId: run.dagId, runId: run.runId, taskId: "produce" },
            "return_value",
            [...list],
          );
        }
        return { state: "success" };
      });
      expect(state).toBe("success");
      const states = await tiStates(getDb(), run);
      if (list.length === 0) {
        expect(states).toEqual({ produce: "success", each: "skipped", collect: "skipped" });
      } else {
        expect(states).toEqual({
          produce: "success",
          "each[0]": "success",
          "each[1]": "success",
          "each[2]": "success",
          collect: expected,
        });
      }
    }
  });

  it("never lets more task instances hold a pool than it has slots", async () => {
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    const run = await trigger("pooled");
    let maxSeen = 0;
    for (let i = 0; i < 30 && (await runState(getDb(), run)) !== "success"; i++) {
      await s.runOnce();
      maxSeen = Math.max(maxSeen, await poolUse(getDb(), "two"));
      const started = await exec.startAll();
      maxSeen = Math.max(maxSeen, await poolUse(getDb(), "two"));
      // Finish one at a time, checking the pool after each step.
      for (const w of started) {
        await exec.finish(w);
        await s.runOnce();
        maxSeen = Math.max(maxSeen, await poolUse(getDb(), "two"));
        expect(await poolUse(getDb(), "two")).toBeLessThanOrEqual(2);
      }
    }
    expect(await runState(getDb(), run)).toBe("success");
    expect(maxSeen).toBe(2);
  });

  it("keeps at most max_active_tasks of a run queued or running", async () => {
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    const run = await trigger("limited");
    const state = await drive(getDb(), s, exec, run, undefined, {
      afterPass: async () => {
        const r = await sql<{ n: number }>`select count(*)::int as n from task_instance
          where run_id = ${run.runId} and state in ('queued', 'running')`.execute(getDb().db);
        expect(r.rows[0]?.n).toBeLessThanOrEqual(3);
      },
    });
    expect(state).toBe("success");
    expect(exec.all).toHaveLength(10);
  });

  it("fails a run past its dagrun_timeout and skips its unfinished task instances", async () => {
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    const run = await trigger("timeout");
    await s.runOnce();
    await exec.startAll();
    await sql`update dag_run set start_date = now() - interval '2 minutes' where run_id = ${run.runId}`.execute(
      getDb().db,
    );
    await s.runOnce();
    expect(await runState(getDb(), run)).toBe("failed");
    expect(await tiStates(getDb(), run)).toEqual({ slow: "skipped", next: "skipped" });
  });

  it("reaps a running try without heartbeat exactly once, even with two schedulers racing", async () => {
    const execA = new TestExecutor(getDb());
    const execB = new TestExecutor(getDb());
    const a = newScheduler(getDb(), config, execA);
    const b = newScheduler(getDb(), config, execB);
    const run = await trigger("retry");
    await a.runOnce();
    await execA.startAll();
    await sql`update task_instance set last_heartbeat_at = now() - interval '10 seconds'
      where run_id = ${run.runId}`.execute(getDb().db);
    await Promise.all([a.runOnce(), b.runOnce()]);
    const ti = await getDb()
      .db.selectFrom("task_instance")
      .selectAll()
      .where("run_id", "=", run.runId)
      .executeTakeFirstOrThrow();
    expect(ti.state).toBe("up_for_retry");
    expect(ti.next_retry_at).not.toBeNull();
    const history = await getDb()
      .db.selectFrom("task_instance_history")
      .selectAll()
      .where("run_id", "=", run.runId)
      .execute();
    expect(history).toHaveLength(1);
    expect(history[0]?.error).toContain("heartbeat");
  });

  it("sends a try queued too long back to scheduled for a new try", async () => {
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), testConfig({ "scheduler.task_queued_timeout": 5 }), exec);
    const run = await trigger("retry");
    await s.runOnce();
    // Only this run's try: the run of the test before may have a retry coming due meanwhile.
    const ofThisRun = () => exec.pending.filter((w) => w.kind === "task" && w.ti.run_id === run.runId);
    expect(ofThisRun()).toHaveLength(1);
    exec.pending.splice(0);
    await sql`update task_instance set queued_dttm = now() - interval '10 seconds' where run_id = ${run.runId}`.execute(
      getDb().db,
    );
    await s.runOnce();
    const ti = await getDb()
      .db.selectFrom("task_instance")
      .select(["state", "try_number"])
      .where("run_id", "=", run.runId)
      .executeTakeFirstOrThrow();
    expect(ti).toEqual({ state: "queued", try_number: 2 });
    const retried = ofThisRun()[0];
    expect(retried?.kind === "task" && retried.try_number).toBe(2);
  });

  it("fails a task instance whose pool does not exist, saying so", async () => {
    const d = dag({ dagId: "no_pool", defaultArgs: { pool: "missing" } }, () => {
      task("t", noop)();
    });
    await saveSdkDag(getDb(), d);
    const exec = new TestExecutor(getDb());
    const s = newScheduler(getDb(), config, exec);
    const run = await trigger("no_pool");
    expect(await drive(getDb(), s, exec, run)).toBe("failed");
    const h = await getDb()
      .db.selectFrom("task_instance_history")
      .select("error")
      .where("run_id", "=", run.runId)
      .executeTakeFirstOrThrow();
    expect(h.error).toContain('Pool "missing" does not exist');
  });

  describe("cron runs", () => {
    it("creates runs with catchup, never more than max_active_runs active", async () => {
      await saveSdkDag(getDb(), catchupDag);
      const exec = new TestExecutor(getDb());
      const s = newScheduler(getDb(), config, exec);
      const active = async () =>
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from dag_run where dag_id = 'catchup' and state in ('queued','running')`.execute(
            getDb().db,
          )
        ).rows[0]?.n ?? 0;
      for (let i = 0; i < 20; i++) {
        await s.runOnce();
        expect(await active()).toBeLessThanOrEqual(2);
        await exec.runAll();
      }
      const runs = await getDb()
        .db.selectFrom("dag_run")
        .select(["run_id", "state", "run_type"])
        .where("dag_id", "=", "catchup")
        .orderBy("logical_date")
        .execute();
      // Three complete daily intervals since the start date (the fourth ends tonight).
      expect(runs.map((r) => r.run_id)).toEqual(
        [0, 1, 2].map(
          (n) => `scheduled__${new Date(Date.parse(startDate) + n * DAY).toISOString().slice(0, 19)}+00:00`,
        ),
      );
      expect(runs.every((r) => r.state === "success" && r.run_type === "scheduled")).toBe(true);
    });

    it("creates only the latest interval without catchup", async () => {
      await saveSdkDag(getDb(), noCatchupDag);
      const exec = new TestExecutor(getDb());
      const s = newScheduler(getDb(), config, exec);
      await s.runOnce();
      await s.runOnce();
      const runs = await getDb()
        .db.selectFrom("dag_run")
        .select(["logical_date"])
        .where("dag_id", "=", "no_catchup")
        .execute();
      expect(runs.map((r) => r.logical_date?.toISOString())).toEqual([
        new Date(Date.parse(startDate) + 2 * DAY).toISOString(),
      ]);
    });
  });
});

describe("scheduler module", () => {
  let ok = false;
  beforeAll(() => {
    ok = true;
  });
  afterAll(() => {
    expect(ok).toBe(true);
  });
  it("exports its API", async () => {
    const mod = await import("../../src/scheduler/index.js");
    expect(Object.keys(mod).sort()).toEqual([
      "Scheduler",
      "backfillStatus",
      "createBackfill",
      "requeueNotStarted",
    ]);
    expect(tiKey("d", "r", "t")).toEqual({ dag_id: "d", run_id: "r", task_id: "t", map_index: -1 });
  });
});
