import { sql } from "kysely";
import { expect, it } from "vitest";
import { withTestDatabases } from "../../../test/db-testing.js";
import { createDagRun } from "./dag-run.js";
import { endJob, heartbeatJob, startJob } from "./job.js";
import { addAuditLog } from "./log.js";
import { deletePool, getPool, getPoolSlotStats, listPools, setPool } from "./pool.js";
import { createTaskInstances } from "./task-instance.js";

withTestDatabases("pools, jobs and the audit log", (getDb) => {
  it("creates, updates and deletes pools; refuses to delete default_pool", async () => {
    const { db } = getDb();
    await setPool(db, { pool: "gpu", slots: 2, description: "GPUs" });
    expect((await setPool(db, { pool: "gpu", slots: 3 })).slots).toBe(3);
    expect((await listPools(db)).map((p) => p.pool)).toEqual(["default_pool", "gpu"]);
    await expect(deletePool(db, "default_pool")).rejects.toMatchObject({ code: "POOL_DELETE_DEFAULT" });
    await expect(setPool(db, { pool: "bad", slots: -5 })).rejects.toMatchObject({ code: "POOL_INVALID" });
    expect(await getPool(db, "default_pool")).toBeDefined();
  });

  it("reports slot use per pool", async () => {
    const { db } = getDb();
    const run = { dagId: "d", runId: "r" };
    await createDagRun(db, { ...run, runType: "manual" });
    await createTaskInstances(db, run, [
      { taskId: "a", pool: "gpu", poolSlots: 2 },
      { taskId: "b", pool: "gpu" },
    ]);
    await sql`update task_instance set state = 'running'
      where dag_id = 'd' and run_id = 'r' and task_id = 'a' and state is null`.execute(db);
    const gpu = (await getPoolSlotStats(db)).find((p) => p.pool === "gpu");
    expect(gpu).toMatchObject({ slots: 3, running: 2, queued: 0, open: 1 });
    expect(await deletePool(db, "gpu")).toBe(true);
  });

  it("heartbeats jobs by the database's clock (an upsert)", async () => {
    const { db } = getDb();
    const job = await startJob(db, { jobType: "scheduler", hostname: "h", pid: 1 });
    const beat = await heartbeatJob(db, { id: job.id, jobType: "scheduler", hostname: "h", pid: 1 });
    expect(beat.latest_heartbeat.getTime()).toBeGreaterThanOrEqual(job.latest_heartbeat.getTime());
    expect(beat.state).toBe("running");
    await db.deleteFrom("job").where("id", "=", job.id).execute();
    expect((await heartbeatJob(db, { id: job.id, jobType: "scheduler", hostname: "h", pid: 1 })).id).toBe(
      job.id,
    );
    await endJob(db, job.id, "success");
    const ended = await db.selectFrom("job").select(["state", "end_date"]).where("id", "=", job.id).execute();
    expect(ended).toEqual([{ state: "success", end_date: expect.any(Date) as unknown }]);
  });

  it("appends audit log entries stamped by the database", async () => {
    const { db } = getDb();
    await addAuditLog(db, { event: "trigger", owner: "admin", dagId: "d" });
    const [entry] = await db.selectFrom("log").selectAll().where("dag_id", "=", "d").execute();
    expect(entry?.event).toBe("trigger");
    const { rows } = await sql<{
      ok: boolean;
    }>`select ${entry?.dttm ?? null}::timestamptz <= now() as ok`.execute(db);
    expect(rows[0]?.ok).toBe(true);
  });
});
