// Checks on running runs made by the periodic pass: dagrun_timeout (the run fails and its
// unfinished task instances are skipped). Task SLAs have their own timer (sla.ts).
import { sql } from "kysely";
import type { SchedulerContext } from "./context.js";
import { loadDag } from "../services/index.js";
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
}

const UNFINISHED = `'scheduled','queued','running','restarting','up_for_retry','up_for_reschedule','deferred'`;

export async function checkRunningRuns(ctx: SchedulerContext): Promise<RunChecksResult> {
  const out: RunChecksResult = { timedOut: [] };
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
