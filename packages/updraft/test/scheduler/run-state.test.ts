// What decides a run's end: teardowns with onFailureFailDagrun, on real PostgreSQL.
import { expect, it } from "vitest";
import type { Database } from "../../src/db/index.js";
import { dag, task, type Dag } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
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
  },
  { dialects: ["postgres"] },
);
