// Short-circuit and branch skips end to end: the runner's verdict (runner/finish-request.ts), the
// server's skips (services/finish-task-instance.ts) and the scheduler's trigger rules, on real
// PostgreSQL.
import { expect, it } from "vitest";
import type { TaskWorkload } from "../../src/model/execution-api.js";
import { isFalsy, successRequest } from "../../src/runner/finish-request.js";
import { dag, task, taskGroup, type Dag } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { drive, newScheduler, saveSdkDag, testConfig, TestExecutor, tiStates } from "./helpers.js";

const noop = (): undefined => undefined;

/** Short-circuit sc → a → after_a (all_done), sc → cleanup (a teardown). */
function shortCircuitDag(dagId: string, ignoreDownstreamTriggerRules?: boolean): Dag {
  return dag({ dagId }, () => {
    const opts = ignoreDownstreamTriggerRules === undefined ? {} : { ignoreDownstreamTriggerRules };
    const sc = task.shortCircuit({ taskId: "sc", ...opts }, () => ({}))();
    const a = task("a", noop)();
    sc.before(a);
    a.before(task({ taskId: "after_a", triggerRule: "all_done" }, noop)());
    sc.before(task.teardown("cleanup", noop)());
  });
}

/** br → a → c (none_failed), br → d, br → group g (r1, r2 → end). */
const branchDag = dag({ dagId: "branchy" }, () => {
  const br = task.branch("br", (): string[] => [])();
  const a = task("a", noop)();
  const c = task({ taskId: "c", triggerRule: "none_failed" }, noop)();
  const d = task("d", noop)();
  const g = taskGroup("g", () => {
    const end = task("end", noop)();
    task("r1", noop)().before(end);
    task("r2", noop)().before(end);
  });
  br.before([a, d]);
  br.before(g);
  a.before(c);
});

/** Decides each try's report as the runner would, from what the task's body "returned". */
function asRunner(d: Dag, results: Record<string, unknown>) {
  return (w: TaskWorkload) => {
    const t = d.tasks.get(w.ti.task_id);
    if (t === undefined) throw new Error(`no task ${w.ti.task_id}`);
    return successRequest(w, d, t, results[w.ti.task_id], () => undefined);
  };
}

let hour = 0;
async function runOf(database: Parameters<typeof saveSdkDag>[0], d: Dag, results: Record<string, unknown>) {
  await saveSdkDag(database, d);
  const exec = new TestExecutor(database);
  const s = newScheduler(database, testConfig(), exec);
  const run = { dagId: d.dagId, runId: `r${++hour}` };
  await triggerDagRun(database.db, { ...run, logicalDate: new Date(Date.UTC(2024, 0, 1, hour)) });
  const state = await drive(database, s, exec, run, asRunner(d, results));
  return { state, tis: await tiStates(database, run) };
}

// airflow/operators/python.py ShortCircuitOperator.execute: the condition is judged by Python's
// bool(); falsy values are False, None, 0, "", and empty containers.
it("judges a short-circuit's result as Python's bool() does", () => {
  for (const v of [false, null, undefined, 0, -0, "", [], {}, 0n, new Map(), new Set()])
    expect(isFalsy(v)).toBe(true);
  for (const v of [true, 1, -1, NaN, "0", "false", [0], { a: 0 }, new Date(0), 1n])
    expect(isFalsy(v)).toBe(false);
});

withTestDatabases(
  "skips",
  (getDb) => {
    // airflow/operators/python.py ShortCircuitOperator.execute: with ignore_downstream_trigger_rules
    // (the default) every downstream task is skipped, whatever its trigger rule; teardowns are
    // never skipped.
    it("a falsy short-circuit skips everything downstream but teardowns by default", async () => {
      const { state, tis } = await runOf(getDb(), shortCircuitDag("sc_all"), { sc: {} });
      expect(tis).toEqual({ sc: "success", a: "skipped", after_a: "skipped", cleanup: "success" });
      expect(state).toBe("success");
    });

    // Same function: with ignore_downstream_trigger_rules False only the direct downstream tasks
    // are skipped and the trigger rules of the rest decide (all_done runs after a skip).
    it("with ignoreDownstreamTriggerRules false, skips the direct downstream only", async () => {
      const { tis } = await runOf(getDb(), shortCircuitDag("sc_direct", false), { sc: [] });
      expect(tis).toEqual({ sc: "success", a: "skipped", after_a: "success", cleanup: "success" });
    });

    it("a truthy short-circuit skips nothing", async () => {
      const { tis } = await runOf(getDb(), shortCircuitDag("sc_truthy"), { sc: { go: 0 } });
      expect(tis).toEqual({ sc: "success", a: "success", after_a: "success", cleanup: "success" });
    });

    // airflow/models/skipmixin.py SkipMixin.skip_all_except: the followed ids may be any task of
    // the DAG; every direct downstream task not followed and not downstream of a followed one is
    // skipped. airflow/operators/branch.py BranchMixin: a task group id stands for its roots.
    it("a branch may follow a task further down and a task group", async () => {
      const far = await runOf(getDb(), branchDag, { br: "c" });
      // a and d are direct and not followed: skipped; c (none_failed) runs after a's skip; the
      // group's roots are direct and not followed: skipped, and end after them.
      expect(far.tis).toEqual({
        br: "success",
        a: "skipped",
        c: "success",
        d: "skipped",
        "g.r1": "skipped",
        "g.r2": "skipped",
        "g.end": "skipped",
      });
      const group = await runOf(getDb(), branchDag, { br: ["g"] });
      expect(group.tis).toEqual({
        br: "success",
        a: "skipped",
        c: "success",
        d: "skipped",
        "g.r1": "success",
        "g.r2": "success",
        "g.end": "success",
      });
    });

    it("refuses a branch result that is neither a task nor a task group of the DAG", () => {
      const w = { ti: { dag_id: "branchy", run_id: "x", task_id: "br", map_index: -1 } } as TaskWorkload;
      const br = branchDag.tasks.get("br")!;
      expect(() => successRequest(w, branchDag, br, ["a", "nope"], () => undefined)).toThrow(
        /"nope", which is neither a task nor a task group of DAG "branchy"/,
      );
      expect(successRequest(w, branchDag, br, "g", () => undefined).follow_task_ids).toEqual([
        "g.r1",
        "g.r2",
      ]);
    });
  },
  { dialects: ["postgres"] },
);
