// depends_on_past, ignore_first_depends_on_past and wait_for_downstream as the scheduler enforces
// them, on real PostgreSQL, including the event-driven wake-up of the next run.
import { sql } from "kysely";
import { expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { EngineEvents } from "../../src/events/engine-events.js";
import type { TaskWorkload } from "../../src/model/execution-api.js";
import { dag, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { newScheduler, runState, saveSdkDag, testConfig, TestExecutor, tiStates } from "./helpers.js";

const noop = (): undefined => undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const pastDag = (dagId: string) =>
  dag({ dagId }, () => {
    task({ taskId: "a", dependsOnPast: true }, noop)().before(task("b", noop)());
  });
const downstreamDag = dag({ dagId: "wait_down" }, () => {
  task({ taskId: "a", waitForDownstream: true }, noop)().before(task("b", noop)());
});
const mappedDag = dag({ dagId: "past_mapped" }, () => {
  task({ taskId: "m", dependsOnPast: true }, (_ctx, n: number) => n).expand([1, 2]);
});

async function trigger(database: Database, dagId: string, runId: string, hour: number, ev?: EngineEvents) {
  await triggerDagRun(
    database.db,
    { dagId, runId, logicalDate: new Date(Date.UTC(2024, 0, 1, hour)) },
    { events: ev ?? null },
  );
  return { dagId, runId };
}

async function ti(database: Database, dagId: string, runId: string, taskId: string, mapIndex = -1) {
  return database.db
    .selectFrom("task_instance")
    .select(["state", "wait_reason"])
    .where("dag_id", "=", dagId)
    .where("run_id", "=", runId)
    .where("task_id", "=", taskId)
    .where("map_index", "=", mapIndex)
    .executeTakeFirstOrThrow();
}

function only(started: TaskWorkload[], runId: string, taskId: string, mapIndex = -1): TaskWorkload {
  const w = started.find(
    (x) => x.ti.run_id === runId && x.ti.task_id === taskId && x.ti.map_index === mapIndex,
  );
  if (w === undefined) throw new Error(`no workload for ${runId}.${taskId}[${mapIndex}]`);
  return w;
}

withTestDatabases(
  "depends_on_past",
  (getDb) => {
    const config = testConfig();

    // airflow/ti_deps/deps/prev_dagrun_dep.py: PrevDagrunDep._get_dep_statuses — the first run has
    // no previous run and passes; a later run waits until every instance of the task in the
    // previous run (by logical date) is success or skipped (_count_unsuccessful_tis).
    it("holds the next run's instance until the previous run's instance succeeded, saying why", async () => {
      const database = getDb();
      await saveSdkDag(database, pastDag("past"));
      const exec = new TestExecutor(database);
      const s = newScheduler(database, config, exec);
      await trigger(database, "past", "r1", 1);
      await trigger(database, "past", "r2", 2);
      await s.runOnce();
      // r1 is the first run: a goes. r2's a waits on r1's a, which is queued.
      expect(exec.pending.map((w) => `${w.ti.run_id}.${w.ti.task_id}`)).toEqual(["r1.a"]);
      const waiting = await ti(database, "past", "r2", "a");
      expect(waiting.state).toBeNull();
      expect(waiting.wait_reason).toMatch(/^Previous Dagrun State: dependsOnPast .* previous run \(r1\)/);
      // The REST API's task instance JSON shows it (api/rest/serialize.ts).
      const started = await exec.startAll();
      await s.runOnce();
      expect((await ti(database, "past", "r2", "a")).state).toBeNull();
      await exec.finish(only(started, "r1", "a"));
      await s.runOnce();
      // r1's a succeeded: r2's a is queued and its reason cleared.
      expect(exec.pending.map((w) => `${w.ti.run_id}.${w.ti.task_id}`).sort()).toEqual(["r1.b", "r2.a"]);
      expect(await ti(database, "past", "r2", "a")).toEqual({ state: "queued", wait_reason: null });
    });

    // prev_dagrun_dep.py: a failed previous instance keeps the next run waiting (not a deadlock:
    // airflow/models/dagrun.py DagRun.update_state only declares a deadlock when no unfinished
    // instance depends on past).
    it("keeps waiting, without failing the run, while the previous instance failed", async () => {
      const database = getDb();
      await saveSdkDag(database, pastDag("past_f"));
      const exec = new TestExecutor(database);
      const s = newScheduler(database, config, exec);
      await trigger(database, "past_f", "f1", 11);
      await trigger(database, "past_f", "f2", 12);
      await s.runOnce();
      await exec.runAll(() => ({ state: "failed", error: "no" }));
      await s.runOnce();
      await s.runOnce();
      expect(await runState(database, { dagId: "past_f", runId: "f1" })).toBe("failed");
      expect(await runState(database, { dagId: "past_f", runId: "f2" })).toBe("running");
      const w = await ti(database, "past_f", "f2", "a");
      expect(w.state).toBeNull();
      expect(w.wait_reason).toContain("1 of its instance(s) in the previous run (f1)");
    });

    // prev_dagrun_dep.py: wait_for_downstream also waits for the previous instance's direct
    // downstream tasks (_has_unsuccessful_dependants); airflow/models/baseoperator.py: it sets
    // depends_on_past.
    it("with waitForDownstream, waits for the previous run's direct downstream tasks too", async () => {
      const database = getDb();
      await saveSdkDag(database, downstreamDag);
      const exec = new TestExecutor(database);
      const s = newScheduler(database, config, exec);
      await trigger(database, "wait_down", "w1", 1);
      await trigger(database, "wait_down", "w2", 2);
      await s.runOnce();
      await exec.runAll(); // w1.a succeeds
      await s.runOnce();
      // w1.b is queued, not done: w2.a still waits.
      expect(exec.pending.map((w) => `${w.ti.run_id}.${w.ti.task_id}`)).toEqual(["w1.b"]);
      const w = await ti(database, "wait_down", "w2", "a");
      expect(w.state).toBeNull();
      expect(w.wait_reason).toContain("waitForDownstream");
      await exec.runAll(); // w1.b succeeds
      await s.runOnce();
      expect(exec.pending.map((x) => `${x.ti.run_id}.${x.ti.task_id}`)).toEqual(["w2.a"]);
    });

    // prev_dagrun_dep.py: for a mapped task every instance in the previous run counts
    // (_count_unsuccessful_tis over all map indexes).
    it("for a mapped task, waits until every mapped instance of the previous run is done", async () => {
      const database = getDb();
      await saveSdkDag(database, mappedDag);
      const exec = new TestExecutor(database);
      const s = newScheduler(database, config, exec);
      await trigger(database, "past_mapped", "m1", 1);
      await trigger(database, "past_mapped", "m2", 2);
      await s.runOnce();
      const started = await exec.startAll();
      expect(started.map((w) => w.ti.map_index).sort()).toEqual([0, 1]);
      await exec.finish(only(started, "m1", "m", 0));
      await s.runOnce();
      const w = await ti(database, "past_mapped", "m2", "m");
      expect(w.state).toBeNull();
      expect(w.wait_reason).toContain("1 of its instance(s)");
      await exec.finish(only(started, "m1", "m", 1));
      await s.runOnce();
      expect(await tiStates(database, { dagId: "past_mapped", runId: "m2" })).toEqual({
        "m[0]": "queued",
        "m[1]": "queued",
      });
    });

    // prev_dagrun_dep.py: when the previous run has no instance of the task (_has_tis) and the task
    // never ran before (_has_any_prior_tis), ignore_first_depends_on_past lets it run; without it
    // the instance waits. Airflow 2.10's default is scheduler.ignore_first_depends_on_past_by_default = True.
    it("a task new to the DAG runs at once unless ignoreFirstDependsOnPast is false", async () => {
      const database = getDb();
      const exec = new TestExecutor(database);
      const s = newScheduler(database, config, exec);
      for (const [dagId, ignoreFirst] of [
        ["new_default", undefined],
        ["new_strict", false],
      ] as const) {
        await saveSdkDag(
          database,
          dag({ dagId }, () => void task("old", noop)()),
        );
        await trigger(database, dagId, "n1", 1);
        await s.runOnce();
        await exec.runAll();
        await s.runOnce();
        expect(await runState(database, { dagId, runId: "n1" })).toBe("success");
        const opts = ignoreFirst === undefined ? {} : { ignoreFirstDependsOnPast: ignoreFirst };
        await saveSdkDag(
          database,
          dag({ dagId }, () => {
            task("old", noop)();
            task({ taskId: "new", dependsOnPast: true, ...opts }, noop)();
          }),
        );
        await trigger(database, dagId, "n2", 2);
        await s.runOnce();
      }
      const queued = exec.all.filter(
        (w) => w.kind === "task" && w.ti.run_id === "n2" && w.ti.task_id === "new",
      );
      expect(queued.map((w) => (w.kind === "task" ? w.ti.dag_id : ""))).toEqual(["new_default"]);
      const strict = await ti(database, "new_strict", "n2", "new");
      expect(strict.state).toBeNull();
      expect(strict.wait_reason).toContain("no instance in the previous run (n1)");
    });

    // Event-driven: the previous run's end of the task wakes the scheduler for the next run
    // (prev_dagrun_dep.py semantics; Updraft's scheduler/pending-work.ts notePast). The periodic
    // pass is 30 s away, so finishing within the wait below means the finish re-evaluated the
    // waiting run.
    it("starts the next run's instance promptly when the previous run's instance succeeds", async () => {
      const database = getDb();
      await saveSdkDag(database, pastDag("past_e"));
      const ev = new EngineEvents(database);
      const exec = new TestExecutor(database, 64, ev);
      const s = newScheduler(database, testConfig({ "scheduler.scheduler_heartbeat_sec": 30 }), exec, {
        events: ev,
      });
      await s.start();
      try {
        await trigger(database, "past_e", "e1", 21, ev);
        await trigger(database, "past_e", "e2", 22, ev);
        // Wait until e1.a is queued and e2.a has been found waiting.
        const until = Date.now() + 10_000;
        while ((await ti(database, "past_e", "e2", "a")).wait_reason === null || exec.pending.length === 0) {
          if (Date.now() > until) throw new Error("e2.a was never evaluated");
          await sleep(10);
        }
        const started = await exec.startAll();
        expect(started.map((w) => `${w.ti.run_id}.${w.ti.task_id}`)).toEqual(["e1.a"]);
        const t0 = Date.now();
        await exec.finish(only(started, "e1", "a"));
        for (;;) {
          const pending = exec.pending.map((w) => `${w.ti.run_id}.${w.ti.task_id}`);
          if (pending.includes("e2.a")) break;
          if (Date.now() - t0 > 5_000) throw new Error(`e2.a not queued promptly; pending ${pending.join()}`);
          await sleep(5);
        }
        expect(Date.now() - t0).toBeLessThan(5_000);
      } finally {
        await s.stop();
        await ev.stop();
      }
      const r = await sql<{ n: number }>`select count(*)::int as n from task_instance
        where dag_id = 'past_e' and run_id = 'e2' and task_id = 'a' and state = 'queued'`.execute(
        database.db,
      );
      expect(r.rows[0]?.n).toBe(1);
    }, 30_000);
  },
  { dialects: ["postgres"] },
);
