// Asset-triggered DAG run creation (decision 0031). A consumer DAG's queued asset updates
// (asset_dag_run_queue) are read under the DAG row's lock (FOR NO KEY UPDATE SKIP LOCKED: one
// scheduler per DAG); when its condition holds, one run is created with the events it consumes
// linked (dag_run_asset_event), and the queue rows read are deleted, guarded by their created_at
// so that an update arriving meanwhile stays queued for the next run.
// Dates as Airflow 2: the logical date is the last queued update's time, the data interval spans
// the first to the last event the run consumes.
import { sql } from "kysely";
import { evaluateAssetCondition, conditionUris } from "../model/asset-condition.js";
import { generateRunId } from "../model/run-id.js";
import { insertRuns, loadDag } from "../services/index.js";
import type { CreatedRun } from "./create-dag-runs.js";
import type { SchedulerContext } from "./context.js";

interface Queued {
  asset_id: number;
  uri: string;
  created_at: Date;
  /** created_at as PostgreSQL prints it: full microseconds, which a JS Date would cut to ms. */
  created_text: string;
}

/** Creates the asset-triggered runs of up to `limit` DAGs whose condition holds; returns them. */
export async function createAssetTriggeredRuns(ctx: SchedulerContext, limit = 50): Promise<CreatedRun[]> {
  const defaultMaxRuns = ctx.config.core.max_active_runs_per_dag;
  return ctx.db.transaction().execute(async (trx) => {
    // A paused DAG keeps its queue (Airflow): it runs once for everything it got while paused.
    const due = await sql<{ dag_id: string; dag_hash: string; now: Date }>`
      select d.dag_id, s.dag_hash, now() as now
      from dag d join serialized_dag s on s.dag_id = d.dag_id
      where d.is_active and not d.is_paused and not d.has_import_errors
        and exists (select 1 from asset_dag_run_queue q where q.target_dag_id = d.dag_id)
        and (select count(*) from dag_run r
             where r.dag_id = d.dag_id and r.state in ('queued', 'running') and r.run_type <> 'backfill')
            < coalesce(d.max_active_runs, ${defaultMaxRuns})
      order by d.dag_id
      limit ${limit}
      for no key update of d skip locked`.execute(trx);
    const created: CreatedRun[] = [];
    for (const d of due.rows) {
      const plan = await loadDag(trx, d.dag_id, d.dag_hash);
      const condition = plan?.dag.asset_condition;
      if (plan === undefined) continue;
      if (condition === undefined) {
        // The DAG is no longer scheduled on assets: what it had queued is moot.
        await trx.deleteFrom("asset_dag_run_queue").where("target_dag_id", "=", d.dag_id).execute();
        continue;
      }
      const queued = await sql<Queued>`
        select q.asset_id, a.uri, q.created_at, q.created_at::text as created_text
        from asset_dag_run_queue q join asset a on a.id = q.asset_id
        where q.target_dag_id = ${d.dag_id}`.execute(trx);
      const uris = new Set(queued.rows.map((q) => q.uri));
      if (!evaluateAssetCondition(condition, uris)) continue;
      const latest = queued.rows.reduce((a, b) => (b.created_at.getTime() > a.created_at.getTime() ? b : a));
      const logical = latest.created_at;
      const named = conditionUris(condition);
      const prev = await sql<{ logical_date: Date | null }>`
        select max(logical_date) as logical_date from dag_run
        where dag_id = ${d.dag_id} and run_type = 'asset_triggered'`.execute(trx);
      const after = prev.rows[0]?.logical_date ?? null;
      // The events since the previous asset-triggered run, up to the latest queued update. Run
      // dates are kept to the millisecond: events an earlier run linked are left out by id.
      const events = await sql<{ id: number; timestamp: Date }>`
        select e.id, e.timestamp from asset_event e join asset a on a.id = e.asset_id
        where a.uri = any(${named}::text[])
          and e.timestamp <= (select max(q.created_at) from asset_dag_run_queue q where q.target_dag_id = ${d.dag_id})
          and (${after}::timestamptz is null or e.timestamp > ${after}::timestamptz - interval '1 millisecond')
          and not exists (select 1 from dag_run_asset_event l join dag_run r on r.id = l.dag_run_id
            where l.event_id = e.id and r.dag_id = ${d.dag_id})
        order by e.timestamp, e.id`.execute(trx);
      const times = events.rows.map((e) => e.timestamp.getTime());
      const runs = await insertRuns(trx, plan, [
        {
          runId: generateRunId("asset_triggered", logical),
          runType: "asset_triggered",
          logicalDate: logical,
          dataIntervalStart: times.length > 0 ? new Date(Math.min(...times)) : logical,
          dataIntervalEnd: times.length > 0 ? new Date(Math.max(...times)) : logical,
        },
      ]);
      const run = runs[0];
      if (run === undefined) {
        ctx.logger.warn(
          { dag_id: d.dag_id, logical_date: logical.toISOString() },
          "An asset-triggered run with this logical date exists already; its queued asset updates are dropped",
        );
      } else if (events.rows.length > 0) {
        await trx
          .insertInto("dag_run_asset_event")
          .values(events.rows.map((e) => ({ dag_run_id: run.id, event_id: e.id })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      await sql`
        delete from asset_dag_run_queue q
        using jsonb_to_recordset(${JSON.stringify(
          queued.rows.map((r) => ({ asset_id: r.asset_id, created_at: r.created_text })),
        )}::jsonb) as x(asset_id int, created_at timestamptz)
        where q.target_dag_id = ${d.dag_id} and q.asset_id = x.asset_id and q.created_at = x.created_at`.execute(
        trx,
      );
      if (run !== undefined) created.push({ dagId: d.dag_id, runId: run.run_id, scheduleDelayMs: null });
    }
    return created;
  });
}
