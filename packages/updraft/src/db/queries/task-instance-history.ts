import { sql } from "kysely";
import type { Executor } from "../executor.js";
import type { TaskInstanceHistoryRow } from "../schema.js";
import type { TaskInstanceKey } from "./task-instance.js";

/**
 * Copies the task instance's current try into task_instance_history (one row per try), in one
 * statement. Repeating it for the same try updates that row. Returns false when the task
 * instance does not exist or has not tried yet (try_number 0).
 */
export async function recordTaskInstanceTry(
  db: Executor,
  key: TaskInstanceKey,
  error: string | null = null,
): Promise<boolean> {
  const mapIndex = key.mapIndex ?? -1;
  const result = await sql`
    insert into task_instance_history (
      task_instance_id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date,
      duration, queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, error)
    select id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date,
      duration, queued_dttm, hostname, pid, executor, pool, queue, operator, max_tries, ${error}::text
    from task_instance
    where dag_id = ${key.dagId} and run_id = ${key.runId} and task_id = ${key.taskId}
      and map_index = ${mapIndex} and try_number > 0
    on conflict (dag_id, run_id, task_id, map_index, try_number) do update set
      state = excluded.state, start_date = excluded.start_date, end_date = excluded.end_date,
      duration = excluded.duration, hostname = excluded.hostname, pid = excluded.pid,
      error = coalesce(excluded.error, task_instance_history.error), updated_at = now()`.execute(db);
  return (result.numAffectedRows ?? 0n) > 0n;
}

/** Every recorded try of a task instance, oldest first. */
export async function listTaskInstanceTries(
  db: Executor,
  key: TaskInstanceKey,
): Promise<TaskInstanceHistoryRow[]> {
  return db
    .selectFrom("task_instance_history")
    .selectAll()
    .where("dag_id", "=", key.dagId)
    .where("run_id", "=", key.runId)
    .where("task_id", "=", key.taskId)
    .where("map_index", "=", key.mapIndex ?? -1)
    .orderBy("try_number")
    .execute();
}
