import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { FinishRequest, FinishResponse, TokenClaims } from "../model/execution-api.js";
import { nextRetryDelayMs } from "../model/retry-delay.js";
import { UNFINISHED_TI_STATES } from "../model/states.js";
import { loadDag, peekCachedDag, type CachedDag } from "./dag-cache.js";
import { tiConflict } from "./ti-conflict.js";

/** Airflow's default retry_delay, for a task no longer in its DAG. */
const DEFAULT_RETRY_DELAY_MS = 300_000;

const SKIPPABLE = JSON.stringify(UNFINISHED_TI_STATES.filter((s) => s !== null));

export interface FinishOptions {
  /** Told `ti_finished` after the commit, to wake the scheduler. */
  events?: EngineEvents | null;
}

export interface FinishResult extends FinishResponse {
  /** Downstream task instances skipped by a branch or short-circuit. */
  skipped: number;
}

/**
 * Records the end of the token's try, in ONE statement (so one transaction): the guarded
 * `running → success | skipped | up_for_retry | failed` for exactly that try, its
 * task_instance_history row, and the skips of a branch (`follow_task_ids`) or short-circuit
 * (`skip_downstream`). The server decides between up_for_retry and failed: a failed try with
 * tries left (`try_number < max_tries`, max_tries being retries + 1) and no `no_retry` is retried
 * after `nextRetryDelayMs`. A duplicate or late report is TI_CONFLICT (409) and changes nothing.
 */
export async function finishTaskInstance(
  db: Executor,
  claims: TokenClaims,
  req: FinishRequest,
  options: FinishOptions = {},
): Promise<FinishResult> {
  const { ti } = claims;
  if (req.follow_task_ids !== undefined && req.follow_task_ids !== null && req.skip_downstream === true) {
    throw new UpdraftError(
      "REQUEST_INVALID",
      "A finish report gives follow_task_ids or skip_downstream, not both.",
    );
  }
  let dag = peekCachedDag(ti.dag_id) ?? (await loadDag(db, ti.dag_id));
  // Other processes hear of the change from the statement itself (NOTIFY is sent at its commit).
  const target = options.events?.notifyTarget() ?? null;
  // The plan depends on the DAG; the statement only applies if the stored DAG is still the one
  // planned with, else the DAG is read again and the plan redone (a DAG change is rare).
  for (let attempt = 0; ; attempt++) {
    const plan = await planFinish(db, claims, req, dag);
    const result = await sql<{ state: string | null; skipped: number; dag_hash: string | null }>`
      with upd as (
        update task_instance set
          state = case when ${plan.retryable}::boolean and try_number < max_tries then 'up_for_retry' else ${req.state}::text end,
          next_retry_at = case when ${plan.retryable}::boolean and try_number < max_tries
            then now() + make_interval(secs => ${plan.delayMs / 1000}::float8) else null end,
          end_date = now(),
          duration = extract(epoch from (now() - coalesce(start_date, now())))::float8,
          updated_at = now()
        where dag_id = ${ti.dag_id} and run_id = ${ti.run_id} and task_id = ${ti.task_id}
          and map_index = ${ti.map_index} and state = 'running' and try_number = ${claims.try_number}
          and (select dag_hash from serialized_dag where dag_id = ${ti.dag_id}) is not distinct from ${dag?.hash ?? null}::text
        returning *
      ), hist as (
        insert into task_instance_history (
          task_instance_id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date,
          duration, queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, error)
        select id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date,
          duration, queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, ${req.error ?? null}::text
        from upd
        on conflict (dag_id, run_id, task_id, map_index, try_number) do update set
          state = excluded.state, start_date = excluded.start_date, end_date = excluded.end_date,
          duration = excluded.duration, hostname = excluded.hostname, pid = excluded.pid,
          error = coalesce(excluded.error, task_instance_history.error), updated_at = now()
      )${skipCte(plan.skip)}
      select (select state from upd) as state, ${plan.skip.length === 0 ? sql`0` : sql`(select count(*)::int from skipped)`} as skipped,
        (select dag_hash from serialized_dag where dag_id = ${ti.dag_id}) as dag_hash${notifySql(target)}`.execute(
      db,
    );
    const row = result.rows[0];
    if (row?.state !== null && row?.state !== undefined) {
      const event = {
        type: "ti_finished" as const,
        dag_id: ti.dag_id,
        run_id: ti.run_id,
        task_id: ti.task_id,
        map_index: ti.map_index,
        state: row.state,
      };
      if (target !== null) options.events?.emitLocal(event);
      else options.events?.emit(event);
      return { state: row.state, skipped: row.skipped };
    }
    const storedHash = row?.dag_hash ?? null;
    if (storedHash === (dag?.hash ?? null) || attempt >= 3) throw await tiConflict(db, claims, "running");
    dag = storedHash === null ? undefined : await loadDag(db, ti.dag_id, storedHash);
  }
}

interface FinishPlan {
  retryable: boolean;
  delayMs: number;
  skip: string[];
}

async function planFinish(
  db: Executor,
  claims: TokenClaims,
  req: FinishRequest,
  dag: CachedDag | undefined,
): Promise<FinishPlan> {
  const { ti } = claims;
  const task = dag?.tasks.get(ti.task_id);
  const retryable = req.state === "failed" && req.no_retry !== true;
  let delayMs = 0;
  if (retryable) {
    const logicalDate =
      task?.retry_exponential_backoff === true ? await runLogicalDate(db, ti.dag_id, ti.run_id) : null;
    delayMs = nextRetryDelayMs({
      retryDelayMs: task?.retry_delay_ms ?? DEFAULT_RETRY_DELAY_MS,
      exponentialBackoff: task?.retry_exponential_backoff ?? false,
      maxRetryDelayMs: task?.max_retry_delay_ms ?? null,
      tryNumber: claims.try_number,
      dagId: ti.dag_id,
      taskId: ti.task_id,
      logicalDate,
    });
  }
  let skip: string[] = [];
  if (req.state === "success" && dag !== undefined && task !== undefined) {
    if (req.skip_downstream === true) skip = [...dag.allDownstream(ti.task_id)];
    else if (req.follow_task_ids !== undefined && req.follow_task_ids !== null) {
      // As Airflow's skip_all_except: a direct downstream task reachable from a followed one
      // (the "join" after an empty branch) is not skipped.
      const keep = new Set<string>();
      for (const id of req.follow_task_ids) {
        keep.add(id);
        for (const d of dag.allDownstream(id)) keep.add(d);
      }
      skip = task.downstream_task_ids.filter((id) => !keep.has(id));
    }
  }
  return { retryable, delayMs, skip };
}

async function runLogicalDate(db: Executor, dagId: string, runId: string): Promise<Date | null> {
  const row = await db
    .selectFrom("dag_run")
    .select("logical_date")
    .where("dag_id", "=", dagId)
    .where("run_id", "=", runId)
    .executeTakeFirst();
  return row?.logical_date ?? null;
}

/** The NOTIFY of `ti_finished` to other processes, sent by the finish statement (at its commit). */
function notifySql(target: { channel: string; origin: string } | null) {
  if (target === null) return sql``;
  return sql`,
        (select pg_notify(${target.channel}::text, json_build_object('origin', ${target.origin}::text,
          'event', json_build_object('type', 'ti_finished', 'dag_id', u.dag_id, 'run_id', u.run_id,
            'task_id', u.task_id, 'map_index', u.map_index, 'state', u.state))::text) from upd u) as notified`;
}

/** The CTE skipping a branch's or short-circuit's downstream tasks; left out when there are none. */
function skipCte(taskIds: readonly string[]) {
  if (taskIds.length === 0) return sql``;
  return sql`, skipped as (
        update task_instance set state = 'skipped', start_date = coalesce(start_date, now()), end_date = now(),
          duration = 0, next_retry_at = null, updated_at = now()
        where dag_id = (select dag_id from upd) and run_id = (select run_id from upd)
          and task_id in (select jsonb_array_elements_text(${JSON.stringify(taskIds)}::jsonb))
          and (state is null or state in (select jsonb_array_elements_text(${SKIPPABLE}::jsonb)))
        returning 1
      )`;
}
