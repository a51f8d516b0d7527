// Lost work, by the database's clock and guarded updates (so each lost try is settled exactly once,
// however many schedulers race): running tries without a heartbeat, tries an executor reports
// lost, tries queued too long, cleared tries whose runner is gone, and task instances queued by a
// scheduler that died (adoption). Ending a try is services/end-try.ts's job.
import { hostname } from "node:os";
import { sql, type RawBuilder } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { TaskInstanceKey, Workload } from "../model/execution-api.js";
import {
  callbackWorkload,
  emitTiEnd,
  endTries,
  loadDag,
  retryDelaySeconds,
  type EndedTry,
} from "../services/index.js";
import type { SchedulerContext } from "./context.js";
import { recordLostReason } from "./lost-reason.js";

export interface ReapResult {
  reaped: EndedTry[];
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
  const stale = sql`coalesce(t.last_heartbeat_at, t.start_date, t.updated_at) < now() - make_interval(secs => ${timeout})`;
  const found = await lostCandidates(ctx.db, sql`t.state = 'running' and ${stale}`, limit);
  const error = `The task's runner stopped heartbeating: no heartbeat for over ${timeout} s (scheduler.task_instance_heartbeat_timeout). The process may have been killed or its host lost.`;
  // The staleness is checked again in the guarded update: a heartbeat that arrived since wins.
  return failTries(ctx, found, sql`t.state = 'running' and ${stale}`, error);
}

/** A try the executor reports lost (its runner died): settled at once, if it is still that try. */
export async function reapLostTry(
  ctx: SchedulerContext,
  ti: TaskInstanceKey,
  tryNumber: number,
  reason: string,
): Promise<ReapResult> {
  const found = await lostCandidates(
    ctx.db,
    sql`t.dag_id = ${ti.dag_id} and t.run_id = ${ti.run_id} and t.task_id = ${ti.task_id}
      and t.map_index = ${ti.map_index} and t.try_number = ${tryNumber} and t.state in ('running', 'queued')`,
    1,
  );
  const result = await failTries(
    ctx,
    found,
    sql`t.state in ('running', 'queued')`,
    `The task's runner was lost: ${reason}`,
  );
  await recordLostReason(ctx, result.reaped, reason);
  return result;
}

async function lostCandidates(db: Db, where: RawBuilder<unknown>, limit: number): Promise<LostCandidate[]> {
  const found = await sql<LostCandidate>`
    select t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, dr.logical_date,
      (select s.dag_hash from serialized_dag s where s.dag_id = t.dag_id) as dag_hash
    from task_instance t join dag_run dr on dr.dag_id = t.dag_id and dr.run_id = t.run_id
    where ${where}
    order by t.last_heartbeat_at nulls first
    limit ${limit}`.execute(db);
  return found.rows;
}

/** Ends the found tries as failed (up_for_retry while tries remain), then their callbacks. */
async function failTries(
  ctx: SchedulerContext,
  found: readonly LostCandidate[],
  guard: RawBuilder<unknown>,
  error: string,
): Promise<ReapResult> {
  if (found.length === 0) return EMPTY;
  await ctx.hooks.beforeReap?.({ tis: found.map(keyWithTry) });
  const tries = [];
  for (const c of found) {
    const plan = await loadDag(ctx.db, c.dag_id, c.dag_hash);
    tries.push({
      ...keyWithTry(c),
      state: "failed" as const,
      retryable: true,
      delay_s: retryDelaySeconds(plan, c, c.try_number, c.logical_date),
      retry_as: "up_for_retry" as const,
      new_try: false,
      error,
    });
  }
  const reaped = await endTries(ctx.db, tries, guard);
  const callbacks: Workload[] = [];
  for (const r of reaped) {
    const c = found.find((f) => sameKey(f, r));
    const plan = await loadDag(ctx.db, r.dag_id, c?.dag_hash ?? null);
    const task = plan?.task(r.task_id);
    ctx.logger.warn({ ...keyWithTry(r), state: r.state }, error);
    emitTiEnd(ctx.metrics, { dag_id: r.dag_id, task_id: r.task_id, state: r.state });
    if (ctx.traces.enabled)
      ctx.traces.tryEnded({
        ...keyOf(r),
        try_number: r.try_number,
        state: r.state,
        start: null,
        end: new Date(),
      });
    const ti = keyOf(r);
    if (r.state === "failed" && task?.has_on_failure_callback === true) {
      callbacks.push(callbackWorkload(ctx.signer, plan, "on_failure", ti, r.try_number, { error }));
    } else if (r.state === "up_for_retry" && task?.has_on_retry_callback === true) {
      callbacks.push(callbackWorkload(ctx.signer, plan, "on_retry", ti, r.try_number, { error }));
    }
  }
  return { reaped, callbacks };
}

/**
 * Tries queued longer than scheduler.task_queued_timeout: back to scheduled for a new try, or
 * failed when no try is left. One statement, so exactly once.
 */
export async function reapQueuedTooLong(ctx: SchedulerContext): Promise<EndedTry[]> {
  const timeout = ctx.config.scheduler.task_queued_timeout;
  const error = `The task stayed queued for over ${timeout} s (scheduler.task_queued_timeout): no runner started it.`;
  const late = await sql<TaskInstanceKey & { try_number: number }>`
    select dag_id, run_id, task_id, map_index, try_number from task_instance
    where state = 'queued' and queued_dttm < now() - make_interval(secs => ${timeout})
    limit 500`.execute(ctx.db);
  const reaped = await endTries(
    ctx.db,
    late.rows.map((r) => ({
      ...keyWithTry(r),
      state: "failed" as const,
      retryable: true,
      delay_s: 0,
      retry_as: "scheduled" as const,
      new_try: false,
      error,
    })),
    sql`t.state = 'queued' and t.queued_dttm < now() - make_interval(secs => ${timeout})`,
  );
  for (const r of reaped) ctx.logger.warn({ ...keyWithTry(r), state: r.state }, error);
  return reaped;
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
 * Scheduler jobs that are gone are marked failed, and the task instances they queued that no
 * runner started are scheduled again, in ONE statement: only one adopter wins each dead job. A job
 * is gone when its heartbeat is older than `staleAfterS`, or at once when it ran on this host and
 * its process no longer exists (a scheduler restarted after a crash takes its own work back
 * without waiting out the threshold). A try that never started uses up no attempt (Airflow's
 * try_number counts attempts that started), so its try_number goes back with it: the next queuing
 * counts it again. Should the old workload still reach a runner, it may start that same try, and
 * the newer copy is refused at start: either way the try runs once.
 */
export async function adoptOrphans(ctx: SchedulerContext, staleAfterS: number): Promise<TaskInstanceKey[]> {
  const deadHere = await deadJobsOnThisHost(ctx);
  const result = await sql<TaskInstanceKey>`
    with dead as (
      update job set state = 'failed', end_date = now()
      where job_type = 'scheduler' and state = 'running' and id is distinct from ${ctx.jobId}
        and (latest_heartbeat < now() - make_interval(secs => ${staleAfterS})
          or id in (select (jsonb_array_elements_text(${JSON.stringify(deadHere)}::jsonb))::int))
      returning id
    ), gone as (
      select id from dead
      union select id from job where job_type = 'scheduler' and state <> 'running'
    )
    update task_instance t set state = 'scheduled', try_number = t.try_number - 1, scheduled_dttm = now(),
      queued_by_job_id = null, updated_at = now()
    where t.state = 'queued' and t.queued_by_job_id in (select id from gone)
    returning t.dag_id, t.run_id, t.task_id, t.map_index`.execute(ctx.db);
  return result.rows;
}

/** Running scheduler jobs recorded on this host whose process is gone (a crash, not a stop). */
async function deadJobsOnThisHost(ctx: SchedulerContext): Promise<number[]> {
  const jobs = await sql<{ id: number; pid: number | null }>`
    select id, pid from job
    where job_type = 'scheduler' and state = 'running' and hostname = ${hostname()}
      and id is distinct from ${ctx.jobId}`.execute(ctx.db);
  return jobs.rows
    .filter((j) => j.pid !== null && j.pid !== process.pid && !processExists(j.pid))
    .map((j) => j.id);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Of the scheduler ids an executor found on its runners, those whose scheduler is gone: no
 * running scheduler job has the id (adoptOrphans marks stale ones failed first). Ids that are not
 * job ids count as gone.
 */
export async function goneSchedulers(ctx: SchedulerContext, owners: readonly string[]): Promise<string[]> {
  const ids = owners.filter((o) => /^\d{1,15}$/.test(o)).map(Number);
  const alive = new Set<string>();
  if (ids.length > 0) {
    const rows = await sql<{ id: number }>`
      select id from job where job_type = 'scheduler' and state = 'running'
        and id in (select (jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))::int)`.execute(ctx.db);
    for (const r of rows.rows) alive.add(String(r.id));
  }
  if (ctx.jobId !== null) alive.add(String(ctx.jobId));
  return owners.filter((o) => !alive.has(o));
}

/**
 * Workloads an executor never started (on stop): their tries go back to scheduled, guarded by
 * try, without using up an attempt (see adoptOrphans).
 */
export async function requeueNotStarted(
  db: Db,
  workloads: readonly Pick<Workload, "kind" | "ti" | "try_number">[],
): Promise<number> {
  const tasks = workloads
    .filter((w) => w.kind === "task")
    .map((w) => ({ ...w.ti, try_number: w.try_number }));
  if (tasks.length === 0) return 0;
  const result = await sql`
    update task_instance t set state = 'scheduled', try_number = t.try_number - 1, scheduled_dttm = now(),
      queued_by_job_id = null, updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(tasks)}::jsonb)
      as k(dag_id text, run_id text, task_id text, map_index int, try_number int)
    where t.dag_id = k.dag_id and t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
      and t.try_number = k.try_number and t.state = 'queued'`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

function keyOf(c: TaskInstanceKey): TaskInstanceKey {
  return { dag_id: c.dag_id, run_id: c.run_id, task_id: c.task_id, map_index: c.map_index };
}

function keyWithTry(c: TaskInstanceKey & { try_number: number }): TaskInstanceKey & { try_number: number } {
  return { ...keyOf(c), try_number: c.try_number };
}

function sameKey(a: TaskInstanceKey, b: TaskInstanceKey): boolean {
  return (
    a.dag_id === b.dag_id && a.run_id === b.run_id && a.task_id === b.task_id && a.map_index === b.map_index
  );
}
