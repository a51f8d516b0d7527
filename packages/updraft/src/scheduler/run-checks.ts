// Checks on running runs made by the periodic pass: dagrun_timeout (the run fails and its
// unfinished task instances are skipped) and task SLAs (one sla_miss callback per run, recorded
// in the audit log under the run's row lock so it fires once).
import { sql } from "kysely";
import type { Workload } from "../model/execution-api.js";
import type { SchedulerContext } from "./context.js";
import { callbackWorkload, loadDag } from "../services/index.js";
import type { FinishedRun } from "./schedule-runs.js";

interface RunningRun {
  dag_id: string;
  run_id: string;
  start_date: Date | null;
  dag_hash: string | null;
  now: Date;
}

export interface RunChecksResult {
  timedOut: FinishedRun[];
  callbacks: Workload[];
}

const UNFINISHED = `'scheduled','queued','running','restarting','up_for_retry','up_for_reschedule','deferred'`;

export async function checkRunningRuns(ctx: SchedulerContext): Promise<RunChecksResult> {
  const out: RunChecksResult = { timedOut: [], callbacks: [] };
  const runs = await sql<RunningRun>`
    select dr.dag_id, dr.run_id, dr.start_date,
      (select s.dag_hash from serialized_dag s where s.dag_id = dr.dag_id) as dag_hash, now() as now
    from dag_run dr where dr.state = 'running' and dr.start_date is not null`.execute(ctx.db);
  for (const run of runs.rows) {
    const plan = await loadDag(ctx.db, run.dag_id, run.dag_hash);
    if (plan === undefined || run.start_date === null) continue;
    const age = run.now.getTime() - run.start_date.getTime();
    const timeout = plan.dag.dagrun_timeout_ms;
    if (timeout !== null && age > timeout) {
      const failed = await timeOutRun(ctx, run);
      if (failed) {
        ctx.logger.warn(
          { dag_id: run.dag_id, run_id: run.run_id },
          `The run exceeded its dagrun_timeout (${timeout} ms) and failed`,
        );
        out.timedOut.push({
          dagId: run.dag_id,
          runId: run.run_id,
          state: "failed",
          plan,
          lastTi: null,
          durationMs: age,
        });
      }
      continue;
    }
    const due = plan.slaTasks.filter((s) => age > s.slaMs);
    if (due.length > 0) {
      const missed = await recordSlaMiss(
        ctx,
        run,
        due.map((s) => s.taskId),
      );
      if (missed !== null && plan.dag.has_sla_miss_callback) {
        const ti = { dag_id: run.dag_id, run_id: run.run_id, task_id: missed[0] ?? "", map_index: -1 };
        out.callbacks.push(callbackWorkload(ctx.signer, plan, "sla_miss", ti, 1, { taskIds: missed }));
      }
    }
  }
  return out;
}

/** running → failed, unfinished task instances → skipped (their runners are refused at the next heartbeat). */
async function timeOutRun(ctx: SchedulerContext, run: RunningRun): Promise<boolean> {
  const unfinished = sql.raw(UNFINISHED);
  const result = await sql<{ n: number }>`
    with r as (
      update dag_run set state = 'failed', end_date = now(), updated_at = now()
      where dag_id = ${run.dag_id} and run_id = ${run.run_id} and state = 'running'
      returning dag_id, run_id
    ), tis as (
      update task_instance t set state = 'skipped', end_date = now(), start_date = coalesce(t.start_date, now()),
        updated_at = now()
      from r
      where t.dag_id = r.dag_id and t.run_id = r.run_id and (t.state is null or t.state in (${unfinished}))
      returning 1
    )
    select (select count(*)::int from r) as n, (select count(*)::int from tis) as skipped`.execute(ctx.db);
  return (result.rows[0]?.n ?? 0) > 0;
}

/**
 * Records the run's SLA miss once (the task ids not successful past their SLA) and returns them,
 * or null when it was recorded before or nothing missed.
 */
async function recordSlaMiss(
  ctx: SchedulerContext,
  run: RunningRun,
  taskIds: string[],
): Promise<string[] | null> {
  return ctx.db.transaction().execute(async (trx) => {
    const locked = await sql`
      select 1 from dag_run where dag_id = ${run.dag_id} and run_id = ${run.run_id} and state = 'running'
      for no key update skip locked`.execute(trx);
    if (locked.rows.length === 0) return null;
    const seen = await sql`
      select 1 from log where event = 'sla_miss' and dag_id = ${run.dag_id} and run_id = ${run.run_id} limit 1`.execute(
      trx,
    );
    if (seen.rows.length > 0) return null;
    const missed = await sql<{ task_id: string }>`
      select distinct task_id from task_instance
      where dag_id = ${run.dag_id} and run_id = ${run.run_id}
        and task_id in (select jsonb_array_elements_text(${JSON.stringify(taskIds)}::jsonb))
        and state is distinct from 'success'
      order by task_id`.execute(trx);
    if (missed.rows.length === 0) return null;
    const ids = missed.rows.map((r) => r.task_id);
    await trx
      .insertInto("log")
      .values({
        event: "sla_miss",
        dag_id: run.dag_id,
        run_id: run.run_id,
        extra: JSON.stringify({ task_ids: ids }),
      })
      .execute();
    return ids;
  });
}
