import { sql } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import type { Executor } from "../executor.js";
import type { JsonValue, XcomRow } from "../schema.js";
import { toJson } from "../schema.js";
import type { TaskInstanceKey } from "./task-instance.js";

/** The XCom key a task's return value is stored under, as in Airflow. */
export const RETURN_VALUE_KEY = "return_value";

/**
 * Stores (or replaces) one XCom value. With `maxSize` (core.xcom_max_size), a value whose JSON
 * is larger is refused with XCOM_TOO_LARGE.
 */
export async function setXcom(
  db: Executor,
  key: TaskInstanceKey,
  xcomKey: string,
  value: JsonValue,
  options: { maxSize?: number } = {},
): Promise<void> {
  const json = toJson(value);
  const size = Buffer.byteLength(json, "utf8");
  if (options.maxSize !== undefined && size > options.maxSize) {
    throw new UpdraftError(
      "XCOM_TOO_LARGE",
      `XCom "${xcomKey}" of task ${key.dagId}.${key.taskId} is ${size} bytes, over core.xcom_max_size (${options.maxSize}). Store large data elsewhere (object storage) and push its location instead.`,
      { details: { size, maxSize: options.maxSize } },
    );
  }
  await db
    .insertInto("xcom")
    .values({
      dag_id: key.dagId,
      run_id: key.runId,
      task_id: key.taskId,
      map_index: key.mapIndex ?? -1,
      key: xcomKey,
      value: json,
    })
    .onConflict((oc) =>
      oc
        .columns(["dag_id", "run_id", "task_id", "map_index", "key"])
        .doUpdateSet({ value: (eb) => eb.ref("excluded.value"), timestamp: sql<Date>`now()` }),
    )
    .execute();
}

/** One XCom row, or undefined when none was pushed (a pushed null is a row with value null). */
export async function getXcom(
  db: Executor,
  key: TaskInstanceKey,
  xcomKey: string,
): Promise<XcomRow | undefined> {
  return db
    .selectFrom("xcom")
    .selectAll()
    .where("dag_id", "=", key.dagId)
    .where("run_id", "=", key.runId)
    .where("task_id", "=", key.taskId)
    .where("map_index", "=", key.mapIndex ?? -1)
    .where("key", "=", xcomKey)
    .executeTakeFirst();
}

/** XComs of a run, optionally for some tasks and one key, ordered by task and map index. */
export async function listXcoms(
  db: Executor,
  run: { dagId: string; runId: string },
  filter: { taskIds?: readonly string[]; key?: string; mapIndex?: number } = {},
): Promise<XcomRow[]> {
  let q = db
    .selectFrom("xcom")
    .selectAll()
    .where("dag_id", "=", run.dagId)
    .where("run_id", "=", run.runId)
    .orderBy("task_id")
    .orderBy("map_index")
    .orderBy("key");
  if (filter.taskIds !== undefined) {
    if (filter.taskIds.length === 0) return [];
    q = q.where("task_id", "in", filter.taskIds);
  }
  if (filter.key !== undefined) q = q.where("key", "=", filter.key);
  if (filter.mapIndex !== undefined) q = q.where("map_index", "=", filter.mapIndex);
  return q.execute();
}

/** Deletes a task instance's XComs (before a new try); returns how many. */
export async function clearXcoms(db: Executor, key: TaskInstanceKey): Promise<number> {
  const result = await db
    .deleteFrom("xcom")
    .where("dag_id", "=", key.dagId)
    .where("run_id", "=", key.runId)
    .where("task_id", "=", key.taskId)
    .where("map_index", "=", key.mapIndex ?? -1)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
