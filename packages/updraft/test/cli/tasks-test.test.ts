// `updraft tasks test`: one task in the foreground on a throwaway database, its dependencies
// ignored. The other task instances of the run are marked done by one guarded statement, in the
// transaction that creates the run; an instance found not in state none is refused, not overwritten.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { markOtherTasksDone } from "../../src/cli/commands/test-run.js";
import { inTransaction, type Database } from "../../src/db/index.js";
import { serializeDag } from "../../src/model/serialize-dag.js";
import { parseSchedule } from "../../src/model/timetable.js";
import { dag, task } from "../../src/sdk/index.js";
import { syncDagBag, triggerDagRun } from "../../src/services/index.js";
import { openTestPGlite } from "../db-testing.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { expectCleanError, updraft } from "./cli-helpers.js";

const THREE = `import { dag, task } from "updraft";
export default dag({ dagId: "three" }, () => {
  const a = task("a", () => console.log("ran a"))();
  const b = task("b", () => console.log("ran b"))();
  const c = task("c", () => console.log("ran c"))();
  a.before(b);
  b.before(c);
});
`;

const three = dag({ dagId: "three" }, () => {
  const a = task("a", () => undefined)();
  const b = task("b", () => undefined)();
  const c = task("c", () => undefined)();
  a.before(b);
  b.before(c);
});

afterAll(() => cleanupTempDirs());

describe("marking the other tasks done", () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestPGlite();
    await syncDagBag(
      database.db,
      {
        upsertedDags: [serializeDag(three, "/dags/three.ts", parseSchedule(null, "UTC").summary)],
        removedDagIds: [],
        importErrorChanges: [],
      },
      { pausedAtCreation: true },
    );
  });
  afterAll(() => database?.close());

  const states = async (runId: string) => {
    const r = await sql<{ task_id: string; state: string | null }>`
      select task_id, state from task_instance where dag_id = 'three' and run_id = ${runId} order by task_id`.execute(
      database.db,
    );
    return Object.fromEntries(r.rows.map((x) => [x.task_id, x.state]));
  };

  it("marks every other instance of a new run success and leaves the tested one alone", async () => {
    const runId = await inTransaction(database.db, async (trx) => {
      const run = await triggerDagRun(trx, { dagId: "three", runId: "test__ok" });
      expect(await markOtherTasksDone(trx, { dagId: "three", runId: run.run_id }, "b")).toBe(2);
      return run.run_id;
    });
    expect(await states(runId)).toEqual({ a: "success", b: null, c: "success" });
  });

  it("refuses, and leaves no run behind, when another instance already left state none", async () => {
    const attempt = inTransaction(database.db, async (trx) => {
      const run = await triggerDagRun(trx, { dagId: "three", runId: "test__raced" });
      // What a scheduler reaching the run first would have done to its root task.
      await sql`update task_instance set state = 'queued', try_number = try_number + 1
        where dag_id = 'three' and run_id = ${run.run_id} and task_id = 'a' and state is null`.execute(trx);
      return markOtherTasksDone(trx, { dagId: "three", runId: run.run_id }, "b");
    });
    await expect(attempt).rejects.toMatchObject({
      code: "TASKS_TEST_RUN_CHANGED",
      message: expect.stringContaining("a is queued") as unknown,
    });
    await expect(attempt).rejects.toThrow(/nothing was run; run the command again/);
    // The transaction rolled back: no run, and c was not left marked done.
    expect(await states("test__raced")).toEqual({});
    const runs = await sql`select 1 from dag_run where run_id = 'test__raced'`.execute(database.db);
    expect(runs.rows).toEqual([]);
  });
});

describe("updraft tasks test", () => {
  let env: NodeJS.ProcessEnv;
  let folder: string;
  beforeAll(() => {
    env = { UPDRAFT_HOME: tempDir("updraft-tasks-test-home-") };
    folder = tempDir("updraft-tasks-test-dags-");
    writeFileSync(join(folder, "three.ts"), THREE);
  });

  it("runs only the named task and prints its log and state", async () => {
    const r = await updraft(env, ["tasks", "test", "three", "b", "--dags-folder", folder]);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stdout).toContain("ran b");
    expect(r.stdout).not.toContain("ran a");
    expect(r.stdout).not.toContain("ran c");
    expect(r.stdout).toMatch(/b\s+-1\s+success\s+1/);
  }, 180_000);

  it("names the DAG's tasks when the task does not exist", async () => {
    const r = await updraft(env, ["tasks", "test", "three", "nope", "--dags-folder", folder]);
    expectCleanError(r, "TASK_NOT_FOUND");
    expect(r.stderr).toContain("Tasks: a, b, c.");
  }, 180_000);
});
