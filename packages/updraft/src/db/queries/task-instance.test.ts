import { sql } from "kysely";
import { expect, it } from "vitest";
import { withTestDatabases } from "../../../test/db-testing.js";
import { createDagRun } from "./dag-run.js";
import {
  createTaskInstances,
  getTaskInstance,
  listTaskInstances,
  markOtherTaskInstancesSuccess,
} from "./task-instance.js";
import { setXcom } from "./xcom.js";

const RUN = { dagId: "d", runId: "r" };
const A = { ...RUN, taskId: "a" };

withTestDatabases("task instances", (getDb) => {
  it("creates the run's task instances in one insert, idempotently", async () => {
    const { db } = getDb();
    await createDagRun(db, { ...RUN, runType: "manual" });
    const tasks = [
      { taskId: "a", maxTries: 2, pool: "default_pool" },
      { taskId: "b" },
      { taskId: "m", mapIndex: 0 },
    ];
    expect(await createTaskInstances(db, RUN, tasks)).toBe(3);
    expect(await createTaskInstances(db, RUN, tasks)).toBe(0);
    const all = await listTaskInstances(db, RUN);
    expect(all.map((t) => [t.task_id, t.map_index, t.state])).toEqual([
      ["a", -1, null],
      ["b", -1, null],
      ["m", 0, null],
    ]);
    expect(all[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reads one task instance by its key", async () => {
    const { db } = getDb();
    expect(await getTaskInstance(db, A)).toMatchObject({ task_id: "a", map_index: -1, max_tries: 2 });
    expect(await getTaskInstance(db, { ...RUN, taskId: "m", mapIndex: 0 })).toMatchObject({ map_index: 0 });
    expect(await getTaskInstance(db, { ...RUN, taskId: "nope" })).toBeUndefined();
  });

  it("marks the other instances success only from state none, and lists those it left", async () => {
    const { db } = getDb();
    const run = { dagId: "d", runId: "others" };
    await createDagRun(db, { ...run, runType: "manual" });
    await createTaskInstances(db, run, [
      { taskId: "a" },
      { taskId: "b" },
      { taskId: "c" },
      { taskId: "m", mapIndex: 1 },
    ]);
    await sql`update task_instance set state = 'queued' where run_id = 'others' and task_id = 'c'`.execute(
      db,
    );
    expect(await markOtherTaskInstancesSuccess(db, run, "b")).toEqual({
      marked: 2,
      untouched: [{ taskId: "c", mapIndex: -1, state: "queued" }],
    });
    const states = await listTaskInstances(db, run);
    expect(states.map((t) => [t.task_id, t.state])).toEqual([
      ["a", "success"],
      ["b", null],
      ["c", "queued"],
      ["m", "success"],
    ]);
    // Repeated, it changes nothing more and reports every instance it did not change.
    expect((await markOtherTaskInstancesSuccess(db, run, "b")).marked).toBe(0);
  });

  it("sets and replaces XComs (JSON arrays and null included), refusing one over maxSize", async () => {
    const { db } = getDb();
    await setXcom(db, A, "return_value", [1, "two", { three: 3 }]);
    await setXcom(db, A, "return_value", [4]);
    await setXcom(db, A, "nothing", null);
    const rows = await sql<{ key: string; value: unknown }>`
      select key, value from xcom where dag_id = 'd' and run_id = 'r' and task_id = 'a' order by key`.execute(
      db,
    );
    expect(rows.rows).toEqual([
      { key: "nothing", value: null },
      { key: "return_value", value: [4] },
    ]);
    await expect(setXcom(db, A, "big", "x".repeat(100), { maxSize: 10 })).rejects.toMatchObject({
      code: "XCOM_TOO_LARGE",
    });
  });
});
