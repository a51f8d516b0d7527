import { sql } from "kysely";
import { expect, it } from "vitest";
import { cleanDatabase } from "./clean.js";
import { createDagRun, transitionDagRun } from "./queries/dag-run.js";
import { addAuditLog } from "./queries/log.js";
import { createTaskInstances } from "./queries/task-instance.js";
import { setXcom } from "./queries/xcom.js";
import { withTestDatabases } from "../../test/db-testing.js";

withTestDatabases("cleanDatabase", (getDb) => {
  it("counts with dryRun without changing anything, then deletes old finished runs and their rows", async () => {
    const { db } = getDb();
    for (const runId of ["old", "new", "old_running"]) {
      await createDagRun(db, { dagId: "d", runId, runType: "manual" });
      await createTaskInstances(db, { dagId: "d", runId }, [{ taskId: "a" }, { taskId: "b" }]);
      await setXcom(db, { dagId: "d", runId, taskId: "a" }, "k", 1);
    }
    await transitionDagRun(db, { dagId: "d", runId: "old" }, { from: ["queued"], to: "success" });
    await transitionDagRun(db, { dagId: "d", runId: "new" }, { from: ["queued"], to: "success" });
    await sql`update dag_run set end_date = now() - interval '40 days', queued_at = now() - interval '40 days' where run_id like 'old%'`.execute(
      db,
    );
    await addAuditLog(db, { event: "old" });
    await addAuditLog(db, { event: "new" });
    await sql`update log set dttm = now() - interval '40 days' where event = 'old'`.execute(db);
    // Asset events go by their own time (decision 0031); the asset stays.
    await sql`insert into asset (uri, name) values ('s3://b/k', 's3://b/k')`.execute(db);
    await sql`insert into asset_event (asset_id, timestamp) select id, now() - interval '40 days' from asset`.execute(
      db,
    );
    await sql`insert into asset_event (asset_id) select id from asset`.execute(db);

    const snapshot = async () =>
      Promise.all(
        ["dag_run", "task_instance", "xcom", "log"].map(
          async (t) =>
            (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(t)}`.execute(db)).rows[0]?.n,
        ),
      );
    const before = await snapshot();
    const dry = await cleanDatabase(getDb(), { olderThanDays: 30, dryRun: true });
    expect(dry).toMatchObject({
      dag_run: 1,
      task_instance: 2,
      xcom: 1,
      log: 1,
      asset_event: 1,
      import_error: 0,
      job: 0,
    });
    expect(await snapshot()).toEqual(before);

    expect(await cleanDatabase(getDb(), { olderThanDays: 30 })).toEqual(dry);
    const runs = await db.selectFrom("dag_run").select("run_id").orderBy("run_id").execute();
    expect(runs.map((r) => r.run_id)).toEqual(["new", "old_running"]);
    expect(await db.selectFrom("asset_event").select("id").execute()).toHaveLength(1);
    expect(await db.selectFrom("asset").select("id").execute()).toHaveLength(1);
    expect(await cleanDatabase(getDb(), { olderThanDays: 30 })).toMatchObject({
      dag_run: 0,
      task_instance: 0,
    });
    await expect(cleanDatabase(getDb(), { olderThanDays: -1 })).rejects.toMatchObject({
      code: "CLEAN_INVALID",
    });
  });
});
