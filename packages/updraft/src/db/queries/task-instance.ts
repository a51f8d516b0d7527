import { sql, type ExpressionBuilder } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import type { TaskInstanceState } from "../../model/states.js";
import type { Executor } from "../executor.js";
import type { Schema, TaskInstanceRow } from "../schema.js";

export interface TaskInstanceKey {
  dagId: string;
  runId: string;
  taskId: string;
  /** -1 for an unmapped task (the default). */
  mapIndex?: number;
}

/** A task instance to create with its run: the static facts from the serialized DAG. */
export interface NewTaskInstance {
  taskId: string;
  mapIndex?: number;
  state?: TaskInstanceState | null;
  maxTries?: number;
  pool?: string;
  poolSlots?: number;
  priorityWeight?: number;
  queue?: string;
  operator?: string | null;
  executor?: string | null;
  customOperatorName?: string | null;
  taskDisplayName?: string | null;
}

/**
 * Creates the task instances of one run in a single INSERT. Existing ones are left alone
 * (ON CONFLICT DO NOTHING), so it is safe to repeat; returns how many were created.
 */
export async function createTaskInstances(
  db: Executor,
  run: { dagId: string; runId: string },
  tasks: readonly NewTaskInstance[],
): Promise<number> {
  if (tasks.length === 0) return 0;
  const result = await db
    .insertInto("task_instance")
    .values(
      tasks.map((t) => ({
        dag_id: run.dagId,
        run_id: run.runId,
        task_id: t.taskId,
        map_index: t.mapIndex ?? -1,
        state: t.state ?? null,
        max_tries: t.maxTries ?? 0,
        pool: t.pool ?? "default_pool",
        pool_slots: t.poolSlots ?? 1,
        priority_weight: t.priorityWeight ?? 1,
        queue: t.queue ?? "default",
        operator: t.operator ?? null,
        executor: t.executor ?? null,
        custom_operator_name: t.customOperatorName ?? null,
        task_display_name: t.taskDisplayName ?? null,
      })),
    )
    .onConflict((oc) => oc.columns(["dag_id", "run_id", "task_id", "map_index"]).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

function whereKey(key: TaskInstanceKey) {
  return (eb: ExpressionBuilder<Schema, "task_instance">) =>
    eb.and([
      eb("dag_id", "=", key.dagId),
      eb("run_id", "=", key.runId),
      eb("task_id", "=", key.taskId),
      eb("map_index", "=", key.mapIndex ?? -1),
    ]);
}

/** `state = ANY($allowed)`, where a null in `allowed` matches the "none" state. */
function stateIn(states: readonly (TaskInstanceState | null)[]) {
  if (states.length === 0) {
    throw new UpdraftError("DB_QUERY_INVALID", "A task instance state filter needs at least one state.");
  }
  const named = states.filter((s): s is TaskInstanceState => s !== null);
  return (eb: ExpressionBuilder<Schema, "task_instance">) => {
    const parts = named.length > 0 ? [eb("state", "in", named)] : [];
    if (named.length < states.length) parts.push(eb("state", "is", null));
    return eb.or(parts);
  };
}

export async function getTaskInstance(
  db: Executor,
  key: TaskInstanceKey,
): Promise<TaskInstanceRow | undefined> {
  return db.selectFrom("task_instance").selectAll().where(whereKey(key)).executeTakeFirst();
}

export async function listTaskInstances(
  db: Executor,
  filter: {
    dagId?: string;
    runId?: string;
    taskId?: string;
    states?: readonly (TaskInstanceState | null)[];
    limit?: number;
    offset?: number;
  } = {},
): Promise<TaskInstanceRow[]> {
  let q = db
    .selectFrom("task_instance")
    .selectAll()
    .orderBy("dag_id")
    .orderBy("run_id")
    .orderBy("task_id")
    .orderBy("map_index");
  if (filter.dagId !== undefined) q = q.where("dag_id", "=", filter.dagId);
  if (filter.runId !== undefined) q = q.where("run_id", "=", filter.runId);
  if (filter.taskId !== undefined) q = q.where("task_id", "=", filter.taskId);
  if (filter.states !== undefined) q = q.where(stateIn(filter.states));
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  if (filter.offset !== undefined) q = q.offset(filter.offset);
  return q.execute();
}

/**
 * Marks every task instance of a run except `taskId`'s success, in one guarded statement: only
 * those still in state none (as a new run creates them) change. `untouched` lists the others, in
 * the state the statement found them (it reads one snapshot, so these are exactly the rows it left).
 */
export async function markOtherTaskInstancesSuccess(
  db: Executor,
  run: { dagId: string; runId: string },
  taskId: string,
): Promise<{
  marked: number;
  untouched: { taskId: string; mapIndex: number; state: TaskInstanceState }[];
}> {
  const others = sql`dag_id = ${run.dagId} and run_id = ${run.runId} and task_id <> ${taskId}`;
  const result = await sql<{ marked: number; untouched: [string, number, TaskInstanceState][] }>`
    with upd as (
      update task_instance set state = 'success', updated_at = now()
      where ${others} and state is null
      returning 1
    )
    select (select count(*)::int from upd) as marked,
      coalesce((select json_agg(json_build_array(task_id, map_index, state) order by task_id, map_index)
        from task_instance where ${others} and state is not null), '[]'::json) as untouched`.execute(db);
  const row = result.rows[0];
  return {
    marked: row?.marked ?? 0,
    untouched: (row?.untouched ?? []).map(([t, m, s]) => ({ taskId: t, mapIndex: m, state: s })),
  };
}

/**
 * A DAG's task instances with their run's logical date: the selection that clearing and marking
 * narrow further (by task, state, run, date range), so that both read the same rows.
 */
export function taskInstancesWithRunDate(db: Executor, dagId: string) {
  return db
    .selectFrom("task_instance as ti")
    .innerJoin("dag_run as dr", (j) =>
      j.onRef("dr.dag_id", "=", "ti.dag_id").onRef("dr.run_id", "=", "ti.run_id"),
    )
    .select([
      "ti.dag_id",
      "ti.run_id",
      "ti.task_id",
      "ti.map_index",
      "ti.state",
      "ti.try_number",
      "dr.logical_date",
    ])
    .where("ti.dag_id", "=", dagId);
}
