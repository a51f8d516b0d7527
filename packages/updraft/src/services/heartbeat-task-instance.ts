import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Executor } from "../db/index.js";
import type { TokenClaims } from "../model/execution-api.js";
import { describeTi, tiConflict } from "./ti-conflict.js";

/**
 * Records a heartbeat of the token's try, by the database's clock, only from the runner that
 * started the try (the hostname and pid recorded at start), as Airflow's execution API does
 * (airflow/api_fastapi/execution_api/routes/task_instances.py: ti_heartbeat answers 409 when
 * the hostname or pid differ): a second process holding the token must not keep the try alive.
 * TI_CONFLICT (409) when the try is no longer running (reaped, cleared or finished), or runs on
 * another host or pid: the runner must stop.
 */
export async function heartbeatTaskInstance(
  db: Executor,
  claims: TokenClaims,
  runner: { hostname: string; pid: number },
): Promise<void> {
  const { ti } = claims;
  const result = await db
    .updateTable("task_instance")
    .set({ last_heartbeat_at: sql<Date>`now()` })
    .where("dag_id", "=", ti.dag_id)
    .where("run_id", "=", ti.run_id)
    .where("task_id", "=", ti.task_id)
    .where("map_index", "=", ti.map_index)
    .where("state", "=", "running")
    .where("try_number", "=", claims.try_number)
    .where("hostname", "=", runner.hostname)
    .where("pid", "=", runner.pid)
    .executeTakeFirst();
  if (result.numUpdatedRows > 0n) return;
  const now = await db
    .selectFrom("task_instance")
    .select(["state", "try_number", "hostname", "pid"])
    .where("dag_id", "=", ti.dag_id)
    .where("run_id", "=", ti.run_id)
    .where("task_id", "=", ti.task_id)
    .where("map_index", "=", ti.map_index)
    .executeTakeFirst();
  if (now?.state === "running" && now.try_number === claims.try_number) {
    throw new UpdraftError(
      "TI_CONFLICT",
      `The ${describeTi(claims)} try ${claims.try_number} runs on host ${now.hostname ?? "?"} pid ${now.pid ?? "?"}, not on host ${runner.hostname} pid ${runner.pid} that sent this heartbeat: only the process that started the try may heartbeat it. Stop this process.`,
      {
        details: {
          hostname: now.hostname,
          pid: now.pid,
          heartbeat_hostname: runner.hostname,
          heartbeat_pid: runner.pid,
        },
      },
    );
  }
  throw await tiConflict(db, claims, "running");
}
