// Task SLAs: a task of a running run that is not done (success or skipped) by its deadline is an
// SLA miss, recorded once in sla_miss (its primary key settles races between schedulers), with a
// notification in the outbox (email to the task's addresses) and the DAG's slaMissCallback run
// in a runner. The deadline is the task's `sla` after the run's expected start: the end of its
// data interval for a scheduled run (when it was due), its start for any other run. Backfills have
// no SLA (their runs are late by design). The scheduler sleeps until the next deadline, so a miss
// is seen while the task still runs, not at the next periodic pass.
import { sql } from "kysely";
import type { Workload } from "../model/execution-api.js";
import { callbackWorkload, loadDag } from "../services/index.js";
import type { SchedulerContext } from "./context.js";

interface RunRow {
  dag_id: string;
  run_id: string;
  run_type: string;
  logical_date: Date | null;
  data_interval_end: Date | null;
  start_date: Date | null;
  dag_hash: string | null;
  now: Date;
}

export interface SlaCheck {
  /** slaMissCallback workloads for the misses this scheduler recorded. */
  callbacks: Workload[];
  /** Misses recorded by this check. */
  missed: number;
  /** The next deadline not yet reached (epoch ms), or null when no running run has one. */
  nextAt: number | null;
}

export async function checkSlas(ctx: SchedulerContext): Promise<SlaCheck> {
  const out: SlaCheck = { callbacks: [], missed: 0, nextAt: null };
  const runs = await sql<RunRow>`
    select dr.dag_id, dr.run_id, dr.run_type, dr.logical_date, dr.data_interval_end, dr.start_date,
      (select s.dag_hash from serialized_dag s where s.dag_id = dr.dag_id) as dag_hash, now() as now
    from dag_run dr
    where dr.state = 'running' and dr.run_type <> 'backfill'
      and exists (select 1 from serialized_dag s
        where s.dag_id = dr.dag_id and jsonb_path_exists(s.data, '$.tasks[*] ? (@.sla_ms != null)'))`.execute(
    ctx.db,
  );
  for (const run of runs.rows) {
    const plan = await loadDag(ctx.db, run.dag_id, run.dag_hash);
    if (plan === undefined || plan.slaTasks.length === 0) continue;
    const base = run.run_type === "scheduled" ? (run.data_interval_end ?? run.start_date) : run.start_date;
    if (base === null) continue;
    const due: { task_id: string; deadline: string }[] = [];
    for (const s of plan.slaTasks) {
      const deadline = base.getTime() + s.slaMs;
      if (deadline <= run.now.getTime())
        due.push({ task_id: s.taskId, deadline: new Date(deadline).toISOString() });
      // On this process's clock: the database's now() is where the deadline was measured from.
      else out.nextAt = Math.min(out.nextAt ?? Infinity, deadline - run.now.getTime() + ctx.clock.now());
    }
    if (due.length === 0) continue;
    const recorded = await recordMisses(ctx, run, due);
    out.missed += recorded.length;
    // Airflow's `sla_missed`, counted by the scheduler that recorded the miss (so once).
    if (recorded.length > 0) ctx.metrics.incr("sla_missed", recorded.length);
    if (recorded.length > 0) {
      ctx.logger.warn(
        { dag_id: run.dag_id, run_id: run.run_id, task_ids: recorded },
        `SLA missed: ${recorded.join(", ")} not done by the deadline`,
      );
      if (plan.dag.has_sla_miss_callback) {
        const ti = { dag_id: run.dag_id, run_id: run.run_id, task_id: recorded[0] ?? "", map_index: -1 };
        out.callbacks.push(callbackWorkload(ctx.signer, plan, "sla_miss", ti, 1, { taskIds: recorded }));
      }
    }
  }
  return out;
}

/**
 * Inserts the misses of `due` tasks that are not done and not recorded yet, with their outbox
 * notifications, in one statement; returns the task ids this call recorded.
 */
async function recordMisses(
  ctx: SchedulerContext,
  run: RunRow,
  due: readonly { task_id: string; deadline: string }[],
): Promise<string[]> {
  const { rows } = await sql<{ task_id: string }>`
    with due as (
      select d.task_id, d.deadline::timestamptz as deadline
      from jsonb_to_recordset(${JSON.stringify(due)}::jsonb) as d(task_id text, deadline text)
    ), late as (
      select due.task_id, due.deadline from due
      where exists (
        select 1 from task_instance t
        where t.dag_id = ${run.dag_id} and t.run_id = ${run.run_id} and t.task_id = due.task_id
          and (t.state is null or t.state not in ('success', 'skipped')))
        and not exists (
          select 1 from sla_miss m
          where m.dag_id = ${run.dag_id} and m.run_id = ${run.run_id} and m.task_id = due.task_id)
    ), missed as (
      insert into sla_miss (dag_id, run_id, task_id, logical_date, deadline, description)
      select ${run.dag_id}, ${run.run_id}, late.task_id, ${run.logical_date}::timestamptz, late.deadline,
        'not done by ' || to_char(late.deadline at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      from late
      on conflict do nothing
      returning task_id, description
    ), notice as (
      insert into notification (kind, dag_id, run_id, task_id, map_index, try_number, error)
      select 'sla_miss', ${run.dag_id}, ${run.run_id}, task_id, -1, 0, description from missed
      on conflict do nothing
    )
    select task_id from missed order by task_id`.execute(ctx.db);
  return rows.map((r) => r.task_id);
}
