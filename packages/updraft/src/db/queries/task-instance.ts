import { sql, type ExpressionBuilder, type Updateable } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import { FINISHED_TI_STATES, type TaskInstanceState } from "../../model/states.js";
import type { Executor } from "../executor.js";
import type { JsonValue, Schema, TaskInstanceRow, TaskInstanceTable } from "../schema.js";
import { toJson } from "../schema.js";

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

/** By the task instance's uuid, as the execution API knows it. */
export async function getTaskInstanceById(db: Executor, id: string): Promise<TaskInstanceRow | undefined> {
  return db.selectFrom("task_instance").selectAll().where("id", "=", id).executeTakeFirst();
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

export type TaskInstanceChanges = Omit<
  Updateable<TaskInstanceTable>,
  "dag_id" | "run_id" | "task_id" | "map_index" | "state" | "rendered_fields" | "next_kwargs"
> & {
  rendered_fields?: JsonValue | null;
  next_kwargs?: JsonValue | null;
};

export interface TaskInstanceTransition {
  /** The states the task instance must be in; null is the "none" state. */
  from: readonly (TaskInstanceState | null)[];
  to: TaskInstanceState | null;
  set?: TaskInstanceChanges;
  /** Adds one to try_number in the same statement (when a new try is scheduled). */
  incrementTry?: boolean;
}

/**
 * Moves a task instance to `to` only if its state is in `from`, as ONE statement
 * (`UPDATE … WHERE key AND state = ANY($from) RETURNING *`). Returns the updated row, or
 * undefined when another actor changed it first (or it does not exist): then do nothing.
 * Stamps the database's now(): scheduled_dttm, queued_dttm, start_date and heartbeat on
 * running, end_date and duration on finished states.
 */
export async function transitionTaskInstance(
  db: Executor,
  key: TaskInstanceKey,
  change: TaskInstanceTransition,
): Promise<TaskInstanceRow | undefined> {
  const { rendered_fields, next_kwargs, ...rest } = change.set ?? {};
  const finished = change.to !== null && FINISHED_TI_STATES.includes(change.to);
  return db
    .updateTable("task_instance")
    .set({
      ...rest,
      ...(rendered_fields !== undefined ? { rendered_fields: jsonOrNull(rendered_fields) } : {}),
      ...(next_kwargs !== undefined ? { next_kwargs: jsonOrNull(next_kwargs) } : {}),
      state: change.to,
      updated_at: sql<Date>`now()`,
      ...(change.incrementTry === true ? { try_number: sql<number>`try_number + 1` } : {}),
      ...(change.to === "scheduled" ? { scheduled_dttm: sql<Date>`now()` } : {}),
      ...(change.to === "queued" ? { queued_dttm: sql<Date>`now()` } : {}),
      ...(change.to === "running"
        ? {
            start_date: sql<Date>`now()`,
            last_heartbeat_at: sql<Date>`now()`,
            end_date: null,
            duration: null,
          }
        : {}),
      ...(finished || change.to === "up_for_retry"
        ? {
            end_date: sql<Date>`now()`,
            duration: sql<number>`extract(epoch from (now() - coalesce(start_date, now())))::float8`,
          }
        : {}),
    })
    .where(whereKey(key))
    .where(stateIn(change.from))
    .returningAll()
    .executeTakeFirst();
}

function jsonOrNull(value: JsonValue | null): string | null {
  return value === null ? null : toJson(value);
}

/**
 * Records a heartbeat from the runner of a running task instance, guarded by state (and by pid
 * when given). Returns false when the task is no longer running there: the runner must stop.
 */
export async function heartbeatTaskInstance(
  db: Executor,
  key: TaskInstanceKey,
  runner: { hostname?: string; pid?: number } = {},
): Promise<boolean> {
  let q = db
    .updateTable("task_instance")
    .set({ last_heartbeat_at: sql<Date>`now()` })
    .where(whereKey(key))
    .where("state", "=", "running");
  if (runner.hostname !== undefined) q = q.where("hostname", "=", runner.hostname);
  if (runner.pid !== undefined) q = q.where("pid", "=", runner.pid);
  const result = await q.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Running task instances whose last heartbeat is older than `timeoutSeconds` by the database's clock. */
export async function listTaskInstancesWithStaleHeartbeat(
  db: Executor,
  timeoutSeconds: number,
  limit = 100,
): Promise<TaskInstanceRow[]> {
  return db
    .selectFrom("task_instance")
    .selectAll()
    .where("state", "=", "running")
    .where(
      sql<boolean>`coalesce(last_heartbeat_at, start_date, updated_at) < now() - make_interval(secs => ${timeoutSeconds})`,
    )
    .orderBy("last_heartbeat_at")
    .limit(limit)
    .execute();
}

/** Task instances queued for longer than `timeoutSeconds` by the database's clock. */
export async function listTaskInstancesQueuedTooLong(
  db: Executor,
  timeoutSeconds: number,
  limit = 100,
): Promise<TaskInstanceRow[]> {
  return db
    .selectFrom("task_instance")
    .selectAll()
    .where("state", "=", "queued")
    .where(sql<boolean>`queued_dttm < now() - make_interval(secs => ${timeoutSeconds})`)
    .orderBy("queued_dttm")
    .limit(limit)
    .execute();
}
