import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import type { TokenClaims } from "../model/execution-api.js";
import { updateRunningTry } from "./ti-conflict.js";

/**
 * Records a heartbeat of the token's try, by the database's clock. TI_CONFLICT (409) when the
 * try is no longer running (it was reaped, cleared or finished): the runner must stop.
 */
export async function heartbeatTaskInstance(
  db: Executor,
  claims: TokenClaims,
  runner: { hostname: string; pid: number },
): Promise<void> {
  await updateRunningTry(db, claims, {
    last_heartbeat_at: sql<Date>`now()`,
    hostname: runner.hostname,
    pid: runner.pid,
  });
}
