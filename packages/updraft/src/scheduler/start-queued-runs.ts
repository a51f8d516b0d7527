// Airflow's `_start_queued_dagruns`: queued runs become running while their DAG has fewer than
// max_active_runs running (backfill runs: fewer than their backfill's max_active_runs, and they
// do not count against the DAG's limit). Oldest logical date first. One transaction-scoped
// advisory lock serializes this short step across schedulers, so limits hold with several.
import { sql } from "kysely";
import type { SchedulerContext } from "./context.js";
import { backfillMaxActiveRuns } from "./backfill.js";

const START_RUNS_LOCK = 7_346_001;

interface QueuedRun {
  id: number;
  dag_id: string;
  run_id: string;
  run_type: string;
  creating_job_id: number | null;
  max_active_runs: number | null;
}

export async function startQueuedRuns(ctx: SchedulerContext): Promise<{ dagId: string; runId: string }[]> {
  const defaultMax = ctx.config.core.max_active_runs_per_dag;
  return ctx.db.transaction().execute(async (trx) => {
    const any = await sql<{
      n: number;
    }>`select count(*)::int as n from dag_run where state = 'queued'`.execute(trx);
    if ((any.rows[0]?.n ?? 0) === 0) return [];
    await sql`select pg_advisory_xact_lock(${START_RUNS_LOCK})`.execute(trx);
    const res = await sql<{ queued: QueuedRun[] | null; running: { k: string; n: number }[] | null }>`
      with q as (
        select dr.id, dr.dag_id, dr.run_id, dr.run_type, dr.creating_job_id, d.max_active_runs, dr.logical_date
        from dag_run dr join dag d on d.dag_id = dr.dag_id
        where dr.state = 'queued' and (not d.is_paused or dr.run_type = 'backfill')
        order by dr.logical_date nulls last, dr.id
        limit 1000
      ), running as (
        select case when run_type = 'backfill' and creating_job_id is not null
            then 'b:' || creating_job_id else 'd:' || dag_id end as k,
          count(*)::int as n
        from dag_run where state = 'running' group by 1
      )
      select (select json_agg(q order by q.logical_date nulls last, q.id) from q) as queued,
        (select json_agg(running) from running) as running`.execute(trx);
    const row = res.rows[0];
    const running = new Map((row?.running ?? []).map((r) => [r.k, r.n]));
    const start: number[] = [];
    for (const q of row?.queued ?? []) {
      const backfill = q.run_type === "backfill" && q.creating_job_id !== null;
      const k = backfill ? `b:${q.creating_job_id}` : `d:${q.dag_id}`;
      const limit = backfill
        ? await backfillMaxActiveRuns(trx, q.dag_id, q.creating_job_id ?? 0)
        : (q.max_active_runs ?? defaultMax);
      const n = running.get(k) ?? 0;
      if (n >= limit) continue;
      running.set(k, n + 1);
      start.push(q.id);
    }
    if (start.length === 0) return [];
    const started = await sql<{ dag_id: string; run_id: string }>`
      update dag_run set state = 'running', start_date = coalesce(start_date, now()), updated_at = now()
      where id in (select (jsonb_array_elements_text(${JSON.stringify(start)}::jsonb))::int) and state = 'queued'
      returning dag_id, run_id`.execute(trx);
    return started.rows.map((r) => ({ dagId: r.dag_id, runId: r.run_id }));
  });
}
