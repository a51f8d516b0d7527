// Lost work, by the database's clock and guarded updates (so each lost try is settled exactly once,
// however many schedulers race): running tries without a heartbeat, tries an executor reports
// lost, tries queued too long, cleared tries whose runner is gone, and task instances queued by a
// scheduler that died (adoption).
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { TaskInstanceKey, Workload } from "../model/execution-api.js";
import { nextRetryDelayMs } from "../model/retry-delay.js";
import type { SchedulerContext } from "./context.js";
import { loadPlan } from "./dag-plan.js";
import { callbackWorkload } from "./workloads.js";

export interface ReapedTi extends TaskInstanceKey {
  try_number: number;
  state: "up_for_retry" | "failed" | "scheduled";
}

export interface ReapResult {
  reaped: ReapedTi[];
  /** Task callbacks (on_failure / on_retry) the lost runners never ran. */
  callbacks: Workload[];
}

interface LostCandidate extends TaskInstanceKey {
  try_number: number;
  logical_date: Date | null;
  dag_hash: string | null;
}

const EMPTY: ReapResult = { reaped: [], callbacks: [] };

/** Running tries whose heartbeat is older than scheduler.task_instance_heartbeat_timeout. */
export async function reapStaleHeartbeats(ctx: SchedulerContext, limit = 200): Promise<ReapResult> {
  const timeout = ctx.config.scheduler.task_instance_heartbeat_timeout;
  const found = await sql<LostCandidate>`
    select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, dr.logical_date,
      (select s.dag_hash from serialized_dag s where s.dag_id = ti.dag_id) as dag_hash
    from task_instance ti join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id
    where ti.state = 'running'
      and coalesce(ti.last_heartbeat_at, ti.start_date, ti.updated_at) < now() - make_interval(secs => ${timeout})
    order by ti.last_heartbeat_at nulls first
    limit ${limit}`.execute(ctx.db);
  if (found.rows.length === 0) return EMPTY;
  await ctx.hooks.beforeReap?.({ tis: found.rows.map(keyWithTry) });
  const error = `The task's runner stopped heartbeating: no heartbeat for over ${timeout} s (scheduler.task_instance_heartbeat_timeout). The process may have been killed or its host lost.`;
  // The staleness is checked again in the guarded update: a heartbeat that arrived since wins.
  const guard = sql`t.state = 'running'
    and coalesce(t.last_heartbeat_at, t.start_date, t.updated_at) < now() - make_interval(secs => ${timeout})`;
  return failTries(ctx, found.rows, guard, error);
}

/** A try the executor reports lost (its runner died): settled at once, if it is still that try. */
export async function reapLostTry(
  ctx: SchedulerContext,
  ti: TaskInstanceKey,
  tryNumber: number,
  reason: string,
): Promise<ReapResult> {
  const found = await sql<LostCandidate>`
    select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, dr.logical_date,
      (select s.dag_hash from serialized_dag s where s.dag_id = ti.dag_id) as dag_hash
    from task_instance ti join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id
    where ti.dag_id = ${ti.dag_id} and ti.run_id = ${ti.run_id} and ti.task_id = ${ti.task_id}
      and ti.map_index = ${ti.map_index} and ti.try_number = ${tryNumber} and ti.state in ('running', 'queued')`.execute(
    ctx.db,
  );
  if (found.rows.length === 0) return EMPTY;
  await ctx.hooks.beforeReap?.({ tis: found.rows.map(keyWithTry) });
  return failTries(
    ctx,
    found.rows,
    sql`t.state in ('running', 'queued')`,
    `The task's runner was lost: ${reason}`,
  );
}

/** up_for_retry (with next_retry_at) when tries remain, else failed; history row; callbacks. */
async function failTries(
  ctx: SchedulerContext,
  found: readonly LostCandidate[],
  guard: ReturnType<typeof sql>,
  error: string,
): Promise<ReapResult> {
  const rows = [];
  for (const c of found) {
    const plan = await loadPlan(ctx.db, c.dag_id, c.dag_hash);
    const task = plan?.tasks.get(c.task_id)?.task;
    const delayMs = nextRetryDelayMs({
      retryDelayMs: task?.retry_delay_ms ?? 300_000,
      exponentialBackoff: task?.retry_exponential_backoff ?? false,
      maxRetryDelayMs: task?.max_retry_delay_ms ?? null,
      tryNumber: Math.max(1, c.try_number),
      dagId: c.dag_id,
      taskId: c.task_id,
      logicalDate: c.logical_date,
    });
    rows.push({ ...keyWithTry(c), delay_s: delayMs / 1000 });
  }
  const result = await sql<ReapedTi>`
    with k as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as k(dag_id text, run_id text, task_id text, map_index int, try_number int, delay_s float8)
    ), upd as (
      update task_instance t set
        state = case when t.try_number < t.max_tries then 'up_for_retry' else 'failed' end,
        next_retry_at = case when t.try_number < t.max_tries then now() + make_interval(secs => k.delay_s) end,
        end_date = now(),
        duration = extract(epoch from (now() - coalesce(t.start_date, now())))::float8,
        updated_at = now()
      from k
      where t.dag_id = k.dag_id and t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
        and t.try_number = k.try_number and ${guard}
      returning t.*
    ), hist as (
      insert into task_instance_history (task_instance_id, dag_id, run_id, task_id, map_index, try_number, state,
        start_date, end_date, duration, queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, error)
      select id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date, duration,
        queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, ${error}::text
      from upd
      on conflict (dag_id, run_id, task_id, map_index, try_number) do update set
        state = excluded.state, end_date = excluded.end_date, duration = excluded.duration,
        error = excluded.error, updated_at = now()
    )
    select dag_id, run_id, task_id, map_index, try_number, state from upd`.execute(ctx.db);
  const callbacks: Workload[] = [];
  for (const r of result.rows) {
    const c = found.find(
      (f) =>
        f.dag_id === r.dag_id &&
        f.run_id === r.run_id &&
        f.task_id === r.task_id &&
        f.map_index === r.map_index,
    );
    const plan = await loadPlan(ctx.db, r.dag_id, c?.dag_hash ?? null);
    const task = plan?.tasks.get(r.task_id)?.task;
    ctx.logger.warn({ ...keyWithTry(r), state: r.state }, error);
    const key = keyWithTry(r);
    const ti: TaskInstanceKey = {
      dag_id: key.dag_id,
      run_id: key.run_id,
      task_id: key.task_id,
      map_index: key.map_index,
    };
    if (r.state === "failed" && task?.has_on_failure_callback === true) {
      callbacks.push(callbackWorkload(ctx, plan, "on_failure", ti, r.try_number, { error }));
    } else if (r.state === "up_for_retry" && task?.has_on_retry_callback === true) {
      callbacks.push(callbackWorkload(ctx, plan, "on_retry", ti, r.try_number, { error }));
    }
  }
  return { reaped: result.rows, callbacks };
}

/**
 * Tries queued longer than scheduler.task_queued_timeout: back to scheduled for a new try, or
 * failed when no try is left. One statement, so exactly once.
 */
export async function reapQueuedTooLong(ctx: SchedulerContext): Promise<ReapedTi[]> {
  const timeout = ctx.config.scheduler.task_queued_timeout;
  const error = `The task stayed queued for over ${timeout} s (scheduler.task_queued_timeout): no runner started it.`;
  const result = await sql<ReapedTi>`
    with upd as (
      update task_instance t set
        state = case when t.try_number < t.max_tries then 'scheduled' else 'failed' end,
        scheduled_dttm = now(),
        end_date = case when t.try_number < t.max_tries then t.end_date else now() end,
        updated_at = now()
      where t.state = 'queued' and t.queued_dttm < now() - make_interval(secs => ${timeout})
      returning t.*
    ), hist as (
      insert into task_instance_history (task_instance_id, dag_id, run_id, task_id, map_index, try_number, state,
        queued_dttm, end_date, executor, pool, queue, operator, max_tries, error)
      select id, dag_id, run_id, task_id, map_index, try_number, 'failed', queued_dttm, now(), executor, pool,
        queue, operator, max_tries, ${error}::text
      from upd where try_number > 0
      on conflict (dag_id, run_id, task_id, map_index, try_number) do nothing
    )
    select dag_id, run_id, task_id, map_index, try_number, state from upd`.execute(ctx.db);
  for (const r of result.rows) ctx.logger.warn({ ...keyWithTry(r), state: r.state }, error);
  return result.rows;
}

/** Cleared running tries (state restarting) whose runner has stopped heartbeating start over. */
export async function releaseRestarting(ctx: SchedulerContext): Promise<TaskInstanceKey[]> {
  const timeout = ctx.config.scheduler.task_instance_heartbeat_timeout;
  const result = await sql<TaskInstanceKey>`
    update task_instance t set state = null, updated_at = now()
    where t.state = 'restarting'
      and coalesce(t.last_heartbeat_at, t.start_date, t.updated_at) < now() - make_interval(secs => ${timeout})
    returning t.dag_id, t.run_id, t.task_id, t.map_index`.execute(ctx.db);
  return result.rows;
}

/**
 * Scheduler jobs whose heartbeat is older than `staleAfterS` are marked failed, and the task
 * instances they (or schedulers that ended) queued and no runner started are scheduled again, in
 * ONE statement: only one adopter wins each dead job. The old try's workload, if a runner still gets it, is refused at start.
 */
export async function adoptOrphans(ctx: SchedulerContext, staleAfterS: number): Promise<TaskInstanceKey[]> {
  const result = await sql<TaskInstanceKey>`
    with dead as (
      update job set state = 'failed', end_date = now()
      where job_type = 'scheduler' and state = 'running' and id is distinct from ${ctx.jobId}
        and latest_heartbeat < now() - make_interval(secs => ${staleAfterS})
      returning id
    ), gone as (
      select id from dead
      union select id from job where job_type = 'scheduler' and state <> 'running'
    )
    update task_instance t set state = 'scheduled', scheduled_dttm = now(), external_executor_id = null,
      updated_at = now()
    where t.state = 'queued' and t.external_executor_id like 'scheduler_job:%'
      and t.external_executor_id in (select 'scheduler_job:' || id from gone)
    returning t.dag_id, t.run_id, t.task_id, t.map_index`.execute(ctx.db);
  return result.rows;
}

/** Workloads an executor never started (on stop): their tries go back to scheduled, guarded by try. */
export async function requeueNotStarted(db: Db, workloads: readonly Workload[]): Promise<number> {
  const tasks = workloads
    .filter((w) => w.kind === "task")
    .map((w) => ({ ...w.ti, try_number: w.try_number }));
  if (tasks.length === 0) return 0;
  const result = await sql`
    update task_instance t set state = 'scheduled', scheduled_dttm = now(), external_executor_id = null,
      updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(tasks)}::jsonb)
      as k(dag_id text, run_id text, task_id text, map_index int, try_number int)
    where t.dag_id = k.dag_id and t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
      and t.try_number = k.try_number and t.state = 'queued'`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

function keyWithTry(c: TaskInstanceKey & { try_number: number }): TaskInstanceKey & { try_number: number } {
  return {
    dag_id: c.dag_id,
    run_id: c.run_id,
    task_id: c.task_id,
    map_index: c.map_index,
    try_number: c.try_number,
  };
}
