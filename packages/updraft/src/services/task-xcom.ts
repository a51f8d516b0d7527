import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Executor, JsonValue } from "../db/index.js";
import type { TokenClaims } from "../model/execution-api.js";
import { describeTi, tiConflict, updateRunningTry } from "./ti-conflict.js";

/**
 * Pushes an XCom for the token's try, only while that try is running (a late try's push is
 * TI_CONFLICT). A value whose JSON is over `maxSize` bytes is XCOM_TOO_LARGE (413), naming the
 * task, the size and the limit.
 */
export async function pushXcom(
  db: Executor,
  claims: TokenClaims,
  xcom: { key: string; value: unknown },
  options: { maxSize: number },
): Promise<void> {
  const { ti } = claims;
  const json = xcomJson(ti.task_id, xcom.key, xcom.value, options.maxSize);
  const result = await sql`
    insert into xcom (dag_id, run_id, task_id, map_index, key, value)
    select ${ti.dag_id}, ${ti.run_id}, ${ti.task_id}, ${ti.map_index}, ${xcom.key}, ${json}::json
    where exists (select 1 from task_instance where dag_id = ${ti.dag_id} and run_id = ${ti.run_id}
      and task_id = ${ti.task_id} and map_index = ${ti.map_index} and state = 'running'
      and try_number = ${claims.try_number})
    on conflict (dag_id, run_id, task_id, map_index, key)
      do update set value = excluded.value, timestamp = now()`.execute(db);
  if ((result.numAffectedRows ?? 0n) === 0n) throw await tiConflict(db, claims, "running");
}

/**
 * An XCom value as the JSON text to store: XCOM_TOO_LARGE (413) over `maxSize` bytes, naming the
 * task, the size and the limit; XCOM_INVALID for what jsonb cannot hold.
 */
export function xcomJson(taskId: string, key: string, value: unknown, maxSize: number): string {
  const json = JSON.stringify(value === undefined ? null : value);
  const size = Buffer.byteLength(json, "utf8");
  if (size > maxSize) throw xcomTooLarge(taskId, key, size, maxSize);
  // PostgreSQL's jsonb cannot hold NUL; refuse it as bad input rather than fail in the database.
  if (json.includes("\\u0000")) {
    throw new UpdraftError(
      "XCOM_INVALID",
      `XCom "${key}" of task "${taskId}" contains a NUL character (\\u0000), which cannot be stored.`,
    );
  }
  return json;
}

export function xcomTooLarge(
  taskId: string,
  key: string | null,
  size: number | null,
  maxSize: number,
): UpdraftError {
  const what = key === null ? "An XCom" : `XCom "${key}"`;
  const howBig = size === null ? "larger than the request limit" : `${size} bytes`;
  return new UpdraftError(
    "XCOM_TOO_LARGE",
    `${what} of task "${taskId}" is ${howBig}, over core.xcom_max_size (${maxSize} bytes). Store large data elsewhere (object storage) and push its location instead.`,
    { details: { task_id: taskId, size, max_size: maxSize } },
  );
}

/**
 * Reads an XCom of the token's own DAG run (FORBIDDEN otherwise). With `mapIndex` null, the
 * values of every mapped instance of the task as one list in map_index order (or the unmapped
 * value when the task was not mapped). XCOM_NOT_FOUND when nothing was pushed.
 */
export async function pullXcom(
  db: Executor,
  claims: TokenClaims,
  query: { dagId: string; runId: string; taskId: string; key: string; mapIndex: number | null },
): Promise<{ key: string; value: JsonValue }> {
  if (query.dagId !== claims.ti.dag_id || query.runId !== claims.ti.run_id) {
    throw new UpdraftError(
      "FORBIDDEN",
      `The token of ${describeTi(claims)} may only read XComs of its own DAG run, not of ${query.dagId}/${query.runId}.`,
    );
  }
  let q = db
    .selectFrom("xcom")
    .select(["map_index", "value"])
    .where("dag_id", "=", query.dagId)
    .where("run_id", "=", query.runId)
    .where("task_id", "=", query.taskId)
    .where("key", "=", query.key)
    .orderBy("map_index");
  if (query.mapIndex !== null) q = q.where("map_index", "=", query.mapIndex);
  const rows = await q.execute();
  const first = rows[0];
  if (first === undefined) {
    throw new UpdraftError(
      "XCOM_NOT_FOUND",
      `Task "${query.taskId}" of run ${query.runId} has no XCom "${query.key}"${query.mapIndex === null ? "" : ` at map index ${query.mapIndex}`}.`,
    );
  }
  if (query.mapIndex !== null || (rows.length === 1 && first.map_index === -1))
    return { key: query.key, value: first.value };
  return { key: query.key, value: rows.filter((r) => r.map_index >= 0).map((r) => r.value) };
}

/** Stores the try's rendered template fields (while it runs; TI_CONFLICT otherwise). */
export async function setRenderedFields(
  db: Executor,
  claims: TokenClaims,
  fields: Record<string, unknown>,
): Promise<void> {
  const json = JSON.stringify(fields);
  if (json.includes("\\u0000")) {
    throw new UpdraftError(
      "REQUEST_INVALID",
      "Rendered fields contain a NUL character (\\u0000), which cannot be stored.",
    );
  }
  await updateRunningTry(db, claims, { rendered_fields: json });
}
