import type { Executor } from "../db/index.js";
import type { TokenClaims } from "../model/execution-api.js";
import { tiConflict } from "./ti-conflict.js";

/**
 * Records a heartbeat of the token's try, by the database's clock. TI_CONFLICT (409) when the
 * try is no longer running (it was reaped, cleared or finished): the runner must stop.
 */
export async function heartbeatTaskInstance(
  db: Executor,
  claims: TokenClaims,
  runner: { hostname: string; pid: number },
): Promise<void> {
  const { ti } = claims;
  const result = await db
    .updateTable("task_instance")
    .set((eb) => ({ last_heartbeat_at: eb.fn<Date>("now"), hostname: runner.hostname, pid: runner.pid }))
    .where("dag_id", "=", ti.dag_id)
    .where("run_id", "=", ti.run_id)
    .where("task_id", "=", ti.task_id)
    .where("map_index", "=", ti.map_index)
    .where("state", "=", "running")
    .where("try_number", "=", claims.try_number)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw await tiConflict(db, claims, "running");
}
