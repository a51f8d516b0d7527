// The end of a try, wherever it is decided: a runner's finish report, a runner lost or silent past
// the heartbeat timeout, a try queued too long, a task whose pool does not exist. One guarded
// update per batch ends the tries and writes each one's task_instance_history row in the same
// statement; the retry rule (up_for_retry while tries remain, after the task's retry delay) lives
// here and nowhere else.
import { sql, type RawBuilder } from "kysely";
import { rowsSql, type RowColumn } from "../db/index.js";
import type { TaskInstanceKey } from "../model/execution-api.js";
import type { DagPlan } from "../model/dag-plan.js";
import { DEFAULT_RETRY_DELAY_MS, nextRetryDelayMs } from "../model/retry-delay.js";

/** One try to end. */
export interface TryEnd extends TaskInstanceKey {
  /** The try being ended (with `newTry`, the try_number before it: the try is counted and ended at once). */
  try_number: number;
  /** What the try ended as; "failed" becomes `retryAs` while tries remain and `retryable`. */
  state: "success" | "failed" | "skipped";
  retryable: boolean;
  /** Seconds before the retry (up_for_retry's next_retry_at). */
  delay_s: number;
  /** The task instance's state when a failed try is retried: "up_for_retry", or "scheduled" for a try that never started. */
  retry_as: "up_for_retry" | "scheduled";
  /** The try never got a number (it is counted now, started and ended at once). */
  new_try: boolean;
  error: string | null;
  /**
   * Whether a failure or retry goes to the notification outbox (email on failure/retry); default
   * yes. A state a user set by hand is no news to them.
   */
  notify?: boolean;
}

const TRY_END_COLUMNS: readonly RowColumn[] = [
  ["dag_id", "text"],
  ["run_id", "text"],
  ["task_id", "text"],
  ["map_index", "int"],
  ["try_number", "int"],
  ["state", "text"],
  ["retryable", "boolean"],
  ["delay_s", "float8"],
  ["retry_as", "text"],
  ["new_try", "boolean"],
  ["error", "text"],
  ["notify", "boolean"],
];

/** What ending a try did: the task instance's new state. */
export interface EndedTry extends TaskInstanceKey {
  try_number: number;
  state: "success" | "failed" | "skipped" | "up_for_retry" | "scheduled";
}

/**
 * A failed try's retry delay in seconds (Airflow's retry_delay, exponential backoff with jitter,
 * max_retry_delay); Airflow's default for a task the DAG no longer has.
 */
export function retryDelaySeconds(
  plan: DagPlan | undefined,
  ti: TaskInstanceKey,
  tryNumber: number,
  logicalDate: Date | null,
): number {
  const task = plan?.task(ti.task_id);
  return (
    nextRetryDelayMs({
      retryDelayMs: task?.retry_delay_ms ?? DEFAULT_RETRY_DELAY_MS,
      exponentialBackoff: task?.retry_exponential_backoff ?? false,
      maxRetryDelayMs: task?.max_retry_delay_ms ?? null,
      tryNumber: Math.max(1, tryNumber),
      dagId: ti.dag_id,
      taskId: ti.task_id,
      logicalDate,
    }) / 1000
  );
}

/**
 * The CTEs `ended` (the updated task_instance rows) and `ended_hist` ending the tries listed in
 * `tries`, for a statement that may do more: only instances at the listed try_number matching
 * `guard` (a condition on `t`, e.g. `t.state = 'running'`) change, so a late or repeated end
 * changes nothing. The history row of each try is written (or completed, if one exists) with its
 * error. Select from `ended` for what changed.
 */
export function endTriesCtes(tries: readonly TryEnd[], guard: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`ending as (${rowsSql(tries as unknown as Record<string, unknown>[], TRY_END_COLUMNS, "k")}), ended as (
      update task_instance t set
        state = case when k.state = 'failed' and k.retryable and t.try_number + k.new_try::int <= t.max_tries
          then k.retry_as else k.state end,
        try_number = t.try_number + k.new_try::int,
        start_date = case when k.new_try then now() else t.start_date end,
        next_retry_at = case when k.state = 'failed' and k.retryable and t.try_number + k.new_try::int <= t.max_tries
            and k.retry_as = 'up_for_retry'
          then now() + make_interval(secs => k.delay_s) end,
        end_date = case when k.state = 'failed' and k.retryable and t.try_number + k.new_try::int <= t.max_tries
            and k.retry_as = 'scheduled'
          then t.end_date else now() end,
        duration = extract(epoch from (now() - coalesce(case when k.new_try then now() else t.start_date end, now())))::float8,
        scheduled_dttm = case when k.retry_as = 'scheduled' then now() else t.scheduled_dttm end,
        -- A deferral ends with its try: a retry starts from execute, not from the resumed method.
        next_method = null, next_kwargs = null, trigger_id = null, trigger_timeout = null,
        updated_at = now()
      from ending k
      where t.dag_id = k.dag_id and t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
        and t.try_number = k.try_number and ${guard}
      returning t.*, k.error, coalesce(k.notify, true) as notify
    ), ended_hist as (
      insert into task_instance_history (
        task_instance_id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date,
        duration, queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, error)
      select id, dag_id, run_id, task_id, map_index, try_number,
        -- A try sent back to scheduled (it never started) failed as a try.
        case when state = 'scheduled' then 'failed' else state end,
        start_date, coalesce(end_date, now()), duration, queued_dttm, hostname, pid, executor, pool, queue,
        operator, max_tries, error
      from ended where try_number > 0
      on conflict (dag_id, run_id, task_id, map_index, try_number) do update set
        state = excluded.state, start_date = excluded.start_date, end_date = excluded.end_date,
        duration = excluded.duration, hostname = excluded.hostname, pid = excluded.pid,
        error = coalesce(excluded.error, task_instance_history.error), updated_at = now()
    ), ended_notice as (
      -- The outbox of email on failure / on retry (notify/notifier.ts decides whether anyone is told).
      insert into notification (kind, dag_id, run_id, task_id, map_index, try_number, error)
      select case when state = 'failed' then 'task_failed' else 'task_retry' end,
        dag_id, run_id, task_id, map_index, try_number, error
      from ended where state in ('failed', 'up_for_retry') and try_number > 0 and notify
      on conflict do nothing
    )`;
}

/** Ends `tries` (one statement) and returns what changed. */
export async function endTries(
  db: Parameters<RawBuilder<unknown>["execute"]>[0],
  tries: readonly TryEnd[],
  guard: RawBuilder<unknown>,
): Promise<EndedTry[]> {
  if (tries.length === 0) return [];
  const result = await sql<EndedTry>`
    with ${endTriesCtes(tries, guard)}
    select dag_id, run_id, task_id, map_index, try_number, state from ended`.execute(db);
  return result.rows;
}
