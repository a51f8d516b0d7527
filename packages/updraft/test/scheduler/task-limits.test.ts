// max_active_tis_per_dagrun next to max_active_tis_per_dag, enforced when queuing, on real PostgreSQL.
import { sql } from "kysely";
import { expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { DagPlan } from "../../src/model/dag-plan.js";
import { serializeDag } from "../../src/model/serialize-dag.js";
import { notHandedOver } from "../../src/services/hand-over.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { drive, newScheduler, saveSdkDag, testConfig, TestExecutor } from "./helpers.js";

const perRun = dag({ dagId: "per_run" }, () => {
  task({ taskId: "m", maxActiveTisPerDagrun: 2 }, (_ctx, n: number) => n).expand([1, 2, 3, 4, 5, 6]);
  task("free", (_ctx, n: number) => n).expand([1, 2, 3]);
});

async function activeByRun(database: Database, taskId: string): Promise<Record<string, number>> {
  const r = await sql<{ run_id: string; n: number }>`
    select run_id, count(*)::int as n from task_instance
    where dag_id = 'per_run' and task_id = ${taskId} and state in ('queued', 'running')
    group by run_id order by run_id`.execute(database.db);
  return Object.fromEntries(r.rows.map((x) => [x.run_id, x.n]));
}

withTestDatabases(
  "per-task limits",
  (getDb) => {
    // airflow/jobs/scheduler_job_runner.py: SchedulerJobRunner._executable_task_instances_to_queued
    // — a task instance is not queued while its task has max_active_tis_per_dagrun instances queued
    // or running in the same run (other runs and other tasks are not counted against it).
    it("keeps at most maxActiveTisPerDagrun instances of a task active per run", async () => {
      const database = getDb();
      await saveSdkDag(database, perRun);
      const exec = new TestExecutor(database);
      const s = newScheduler(database, testConfig(), exec);
      for (const [runId, hour] of [
        ["a", 1],
        ["b", 2],
      ] as const)
        await triggerDagRun(database.db, {
          dagId: "per_run",
          runId,
          logicalDate: new Date(Date.UTC(2024, 0, 1, hour)),
        });
      await s.runOnce();
      expect(await activeByRun(database, "m")).toEqual({ a: 2, b: 2 });
      // The unlimited task of the same runs is not held back.
      expect(await activeByRun(database, "free")).toEqual({ a: 3, b: 3 });
      let maxSeen = 0;
      const state = await drive(database, s, exec, { dagId: "per_run", runId: "a" }, undefined, {
        afterPass: async () => {
          for (const n of Object.values(await activeByRun(database, "m"))) maxSeen = Math.max(maxSeen, n);
        },
      });
      expect(state).toBe("success");
      expect(maxSeen).toBe(2);
    });

    // A finish hands its freed slot to the next try only where the scheduler could queue it:
    // never to another task with a per-run limit (services/hand-over.ts notHandedOver).
    it("does not hand a freed slot over to another task with maxActiveTisPerDagrun", () => {
      const serialized = serializeDag(perRun, "/dags/per_run.ts", "None");
      const plan = new DagPlan(serialized, serialized.dag_hash);
      expect(notHandedOver(plan, "free")).toEqual(["m"]);
      expect(notHandedOver(plan, "m")).toEqual([]);
    });
  },
  { dialects: ["postgres"] },
);
