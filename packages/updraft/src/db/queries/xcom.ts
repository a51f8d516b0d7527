import { sql } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import type { Executor } from "../executor.js";
import type { JsonValue } from "../schema.js";
import { toJson } from "../schema.js";
import type { TaskInstanceKey } from "./task-instance.js";

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
