// Two schedulers racing on one consumer's asset queue (decision 0031), on PostgreSQL where their
// passes really run at once: while producers record updates, both schedulers' passes make the
// consumer's asset-triggered runs. The DAG row's lock (FOR NO KEY UPDATE SKIP LOCKED) lets one
// scheduler at a time read and delete the queue, and the delete is guarded by each row's
// created_at, so: no update is linked to two runs, none stays queued once the updates stop, and
// there are never more runs than updates.
import { sql } from "kysely";
import { expect, it } from "vitest";
import { asset, dag, task } from "../../src/sdk/index.js";
import { createAssetEvent } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { newScheduler, saveSdkDag, testConfig, TestExecutor } from "./helpers.js";

const orders = asset("s3://warehouse/orders.parquet");
const noop = (): undefined => undefined;
const producer = dag({ dagId: "producer" }, () => {
  task({ taskId: "load", outlets: [orders] }, noop)();
});
// Runs stay queued here (no executor runs them): a high limit keeps max_active_runs out of the way.
const consumer = dag({ dagId: "consumer", schedule: [orders], maxActiveRuns: 1000 }, () => {
  task("use", noop)();
});
const UPDATES = 40;

withTestDatabases(
  "two schedulers on one asset queue",
  (getDb) => {
    it("link each update to one run at most, leave nothing queued, and make no more runs than updates", async () => {
      const database = getDb();
      for (const d of [producer, consumer]) await saveSdkDag(database, d);
      await database.db.updateTable("dag").set({ is_paused: false }).execute();
      const config = testConfig();
      const schedulers = [0, 1].map(() => newScheduler(database, config, new TestExecutor(database)));
      let producing = true;
      const passes = schedulers.map(async (s) => {
        while (producing) await s.runOnce();
      });
      for (let i = 0; i < UPDATES; i++) {
        await createAssetEvent(database.db, { uri: orders.uri, extra: { i } });
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      producing = false;
      await Promise.all(passes);
      // Both once more at once: whatever was queued last becomes a run, by one of them.
      await Promise.all(schedulers.map((s) => s.runOnce()));

      const runs = await sql<{ id: number }>`
        select id from dag_run where dag_id = 'consumer' and run_type = 'asset_triggered'`.execute(
        database.db,
      );
      expect(runs.rows.length).toBeGreaterThanOrEqual(1);
      expect(runs.rows.length).toBeLessThanOrEqual(UPDATES);
      const twice = await sql<{ event_id: number; n: number }>`
        select l.event_id, count(*)::int as n from dag_run_asset_event l
        join dag_run r on r.id = l.dag_run_id and r.dag_id = 'consumer'
        group by l.event_id having count(*) > 1`.execute(database.db);
      expect(twice.rows).toEqual([]);
      const linked = await sql<{ n: number }>`
        select count(distinct l.event_id)::int as n from dag_run_asset_event l
        join dag_run r on r.id = l.dag_run_id and r.dag_id = 'consumer'`.execute(database.db);
      expect(linked.rows[0]?.n).toBeGreaterThanOrEqual(runs.rows.length);
      expect(await database.db.selectFrom("asset_dag_run_queue").selectAll().execute()).toEqual([]);
    }, 60_000);
  },
  { dialects: ["postgres"] },
);
