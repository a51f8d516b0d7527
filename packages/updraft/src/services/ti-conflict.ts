import { UpdraftError } from "../common/errors.js";
import type { UpdateObject } from "kysely";
import type { Executor, Schema } from "../db/index.js";
import type { TokenClaims } from "../model/execution-api.js";

/** Where a task instance is now, for a message saying why a report was refused. */
async function currentState(
  db: Executor,
  claims: TokenClaims,
): Promise<{ state: string | null; try_number: number } | undefined> {
  const { ti } = claims;
  return db
    .selectFrom("task_instance")
    .select(["state", "try_number"])
    .where("dag_id", "=", ti.dag_id)
    .where("run_id", "=", ti.run_id)
    .where("task_id", "=", ti.task_id)
    .where("map_index", "=", ti.map_index)
    .executeTakeFirst();
}

export function describeTi(claims: TokenClaims): string {
  const { ti } = claims;
  return `task instance ${ti.dag_id}.${ti.task_id}${ti.map_index >= 0 ? `[${ti.map_index}]` : ""} of run ${ti.run_id}`;
}

/**
 * TI_CONFLICT (409) saying what the task instance is now, or TASK_INSTANCE_NOT_FOUND. Called
 * only after a guarded statement changed nothing, so the extra read is off the hot path.
 */
export async function tiConflict(db: Executor, claims: TokenClaims, wanted: string): Promise<UpdraftError> {
  const now = await currentState(db, claims);
  if (now === undefined) {
    return new UpdraftError(
      "TASK_INSTANCE_NOT_FOUND",
      `The ${describeTi(claims)} does not exist (its run may have been deleted).`,
    );
  }
  return new UpdraftError(
    "TI_CONFLICT",
    `The ${describeTi(claims)} is ${now.state ?? "none"} at try ${now.try_number}, not ${wanted} for try ${claims.try_number}: this report changes nothing.`,
    { details: { state: now.state, try_number: now.try_number, token_try_number: claims.try_number } },
  );
}

/**
 * Updates the token's try only while it is running (one guarded statement); TI_CONFLICT (409)
 * when it is not: reaped, cleared, finished, or another try.
 */
export async function updateRunningTry(
  db: Executor,
  claims: TokenClaims,
  set: UpdateObject<Schema, "task_instance">,
): Promise<void> {
  const { ti } = claims;
  const result = await db
    .updateTable("task_instance")
    .set(set)
    .where("dag_id", "=", ti.dag_id)
    .where("run_id", "=", ti.run_id)
    .where("task_id", "=", ti.task_id)
    .where("map_index", "=", ti.map_index)
    .where("state", "=", "running")
    .where("try_number", "=", claims.try_number)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw await tiConflict(db, claims, "running");
}
