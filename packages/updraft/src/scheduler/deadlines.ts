// DAG deadline alerts (Airflow 3.1's `deadline`), on the SLA timer (sla.ts): a queued or running
// run not finished by an alert's reference (its logical date, when it was queued, or a fixed date)
// plus the alert's interval misses it. The miss is recorded once in `deadline` (its primary key
// settles races between schedulers, as sla_miss) and the alert's callback runs in a runner. Pending
// deadlines are not stored: they follow from the serialized DAG and the run, in the same statement.
// Backfills have no deadlines (their runs are late by design, as for SLAs).
import { sql } from "kysely";
import type { Workload } from "../model/execution-api.js";
import { callbackWorkload, loadDag } from "../services/index.js";
import type { SchedulerContext } from "./context.js";

interface Row {
  kind: "missed" | "next";
  dag_id: string | null;
  run_id: string | null;
  alert_index: number | null;
  reference_type: string | null;
  deadline_time: Date | null;
  logical_date: Date | null;
  dag_hash: string | null;
  wait_ms: number | null;
}

export interface DeadlineCheck {
  /** Callback workloads for the misses this scheduler recorded. */
  callbacks: Workload[];
  /** Misses recorded by this check. */
  missed: number;
  /** The next deadline not yet reached (epoch ms on this process's clock), or null. */
  nextAt: number | null;
}

/** Records the deadlines that passed for unfinished runs, and finds the next one. One statement. */
export async function checkDeadlines(ctx: SchedulerContext): Promise<DeadlineCheck> {
  const out: DeadlineCheck = { callbacks: [], missed: 0, nextAt: null };
  const { rows } = await sql<Row>`
    with alerts as (
      select dr.dag_id, dr.run_id, dr.logical_date, s.dag_hash, (a.ord - 1)::int as alert_index,
        a.value->>'reference_type' as reference_type,
        case a.value->>'reference_type'
          when 'DagRunLogicalDateDeadline' then dr.logical_date
          when 'DagRunQueuedAtDeadline' then dr.queued_at
          else (a.value->>'datetime')::timestamptz
        end + make_interval(secs => (a.value->>'interval_ms')::double precision / 1000) as deadline_time
      from dag_run dr
      join serialized_dag s on s.dag_id = dr.dag_id
      cross join lateral jsonb_array_elements(s.data->'deadline') with ordinality as a(value, ord)
      where dr.state in ('queued', 'running') and dr.run_type <> 'backfill'
        and jsonb_typeof(s.data->'deadline') = 'array'
    ), pending as (
      select a.* from alerts a
      where a.deadline_time is not null and not exists (
        select 1 from deadline d
        where d.dag_id = a.dag_id and d.run_id = a.run_id and d.alert_index = a.alert_index)
    ), missed as (
      insert into deadline (dag_id, run_id, alert_index, reference_type, deadline_time)
      select dag_id, run_id, alert_index, reference_type, deadline_time from pending
      where deadline_time <= now()
      on conflict do nothing
      returning dag_id, run_id, alert_index, reference_type, deadline_time
    )
    select 'missed' as kind, m.dag_id, m.run_id, m.alert_index, m.reference_type, m.deadline_time,
      p.logical_date, p.dag_hash, null::double precision as wait_ms
    from missed m join pending p using (dag_id, run_id, alert_index)
    union all
    select 'next', null, null, null, null, null, null, null,
      extract(epoch from min(deadline_time) - now()) * 1000
    from pending where deadline_time > now()`.execute(ctx.db);
  for (const r of rows) {
    if (r.kind === "next") {
      // On this process's clock: the database's now() is where the wait was measured from.
      if (r.wait_ms !== null) out.nextAt = Number(r.wait_ms) + ctx.clock.now();
      continue;
    }
    if (r.dag_id === null || r.run_id === null || r.alert_index === null || r.deadline_time === null)
      continue;
    out.missed += 1;
    const deadlineTime = r.deadline_time.toISOString();
    // Airflow's metric, counted by the scheduler that recorded the miss (so once).
    ctx.metrics.incr("deadline_alerts.deadline_missed", 1, { dag_id: r.dag_id, dagrun_id: r.run_id });
    ctx.logger.warn(
      { dag_id: r.dag_id, run_id: r.run_id, alert_index: r.alert_index, deadline_time: deadlineTime },
      `Deadline missed: run ${r.run_id} of ${r.dag_id} was not done by ${deadlineTime}`,
    );
    const plan = await loadDag(ctx.db, r.dag_id, r.dag_hash);
    const ti = {
      dag_id: r.dag_id,
      run_id: r.run_id,
      task_id: plan?.dag.tasks[0]?.task_id ?? "",
      map_index: -1,
    };
    out.callbacks.push(
      callbackWorkload(ctx.signer, plan, "deadline_miss", ti, 1, {
        deadline: {
          alert_index: r.alert_index,
          reference_type: r.reference_type ?? "",
          deadline_time: deadlineTime,
          logical_date: r.logical_date === null ? null : r.logical_date.toISOString(),
        },
      }),
    );
  }
  return out;
}
