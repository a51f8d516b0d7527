import { expect, it } from "vitest";
import { withTestDatabases } from "../testing.js";
import { createDagRun } from "./dag-run.js";
import { listTaskInstanceTries, recordTaskInstanceTry } from "./task-instance-history.js";
import {
  createTaskInstances,
  getTaskInstance,
  heartbeatTaskInstance,
  listTaskInstances,
  listTaskInstancesWithStaleHeartbeat,
  transitionTaskInstance,
} from "./task-instance.js";
import { clearXcoms, getXcom, listXcoms, setXcom } from "./xcom.js";

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

  it("of two concurrent guarded transitions exactly one wins", async () => {
    const { db } = getDb();
    const results = await Promise.all(
      [1, 2].map(() => transitionTaskInstance(db, A, { from: [null], to: "scheduled", incrementTry: true })),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const ti = await getTaskInstance(db, A);
    expect(ti?.state).toBe("scheduled");
    expect(ti?.try_number).toBe(1);
    expect(ti?.scheduled_dttm).toBeInstanceOf(Date);
  });

  it("stamps times through queued, running and a finished state, and records the try", async () => {
    const { db } = getDb();
    expect(
      (await transitionTaskInstance(db, A, { from: ["scheduled"], to: "queued" }))?.queued_dttm,
    ).toBeInstanceOf(Date);
    const running = await transitionTaskInstance(db, A, {
      from: ["queued"],
      to: "running",
      set: { hostname: "h", pid: 42, rendered_fields: { cmd: ["echo", "hi"] } },
    });
    expect(running?.start_date).toBeInstanceOf(Date);
    expect(running?.rendered_fields).toEqual({ cmd: ["echo", "hi"] });
    expect(await heartbeatTaskInstance(db, A, { hostname: "h", pid: 42 })).toBe(true);
    expect(await heartbeatTaskInstance(db, A, { hostname: "h", pid: 43 })).toBe(false);
    const failed = await transitionTaskInstance(db, A, { from: ["running"], to: "up_for_retry" });
    expect(failed?.end_date).toBeInstanceOf(Date);
    expect(failed?.duration).toBeGreaterThanOrEqual(0);
    expect(await recordTaskInstanceTry(db, A, "boom")).toBe(true);
    expect(await recordTaskInstanceTry(db, A)).toBe(true);
    const tries = await listTaskInstanceTries(db, A);
    expect(tries.map((t) => [t.try_number, t.state, t.error])).toEqual([[1, "up_for_retry", "boom"]]);
    expect(await heartbeatTaskInstance(db, A)).toBe(false);
    // A late report for the old try changes nothing.
    expect(await transitionTaskInstance(db, A, { from: ["running"], to: "success" })).toBeUndefined();
  });

  it("finds running task instances whose heartbeat is stale by the database's clock", async () => {
    const { db } = getDb();
    const B = { ...RUN, taskId: "b" };
    await transitionTaskInstance(db, B, { from: [null], to: "running" });
    expect(await listTaskInstancesWithStaleHeartbeat(db, 60)).toEqual([]);
    await db
      .updateTable("task_instance")
      .set({ last_heartbeat_at: new Date(Date.now() - 3_600_000) })
      .where("task_id", "=", "b")
      .execute();
    expect((await listTaskInstancesWithStaleHeartbeat(db, 60)).map((t) => t.task_id)).toEqual(["b"]);
  });

  it("sets, reads, lists and clears XComs (JSON arrays included)", async () => {
    const { db } = getDb();
    await setXcom(db, A, "return_value", [1, "two", { three: 3 }]);
    await setXcom(db, A, "return_value", [4]);
    await setXcom(db, A, "nothing", null);
    expect((await getXcom(db, A, "return_value"))?.value).toEqual([4]);
    expect((await getXcom(db, A, "nothing"))?.value).toBeNull();
    expect(await getXcom(db, A, "missing")).toBeUndefined();
    expect((await listXcoms(db, RUN, { taskIds: ["a"] })).map((x) => x.key)).toEqual([
      "nothing",
      "return_value",
    ]);
    await expect(setXcom(db, A, "big", "x".repeat(100), { maxSize: 10 })).rejects.toMatchObject({
      code: "XCOM_TOO_LARGE",
    });
    expect(await clearXcoms(db, A)).toBe(2);
  });
});
