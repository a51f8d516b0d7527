import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import type { StartResponse, TokenClaims } from "../model/execution-api.js";
import { loadDag, peekDag } from "./dag-cache.js";
import {
  clearEarlierXcoms,
  runContextColumns,
  reschedulesColumn,
  runningSet,
  startResponse,
  xcomSubquery,
  type RunnerIdentity,
  type StartRow,
} from "./start-context.js";
import { tiConflict } from "./ti-conflict.js";
import type { Metrics } from "../metrics/index.js";
import { emitTiStart } from "./ti-metrics.js";

export interface StartOptions {
  /** Seconds between the runner's heartbeats (default 5). */
  heartbeatIntervalS?: number;
  /** Where ti.start goes (never awaited). */
  metrics?: Metrics;
}

/**
 * Starts a try: `queued → running` for exactly the token's try (TI_CONFLICT otherwise), recording
 * the runner and the database's now(), and clearing XComs left by earlier tries (as Airflow does).
 * Returns what the runner needs to build the task context, with the XComs the task's fields refer
 * to prefetched. One statement in the usual case (the DAG is cached by hash).
 */
export async function startTaskInstance(
  db: Executor,
  claims: TokenClaims,
  runner: RunnerIdentity,
  options: StartOptions = {},
): Promise<StartResponse> {
  const { ti } = claims;
  let dag = peekDag(ti.dag_id) ?? (await loadDag(db, ti.dag_id));
  let refs = dag?.xcomReferences(ti.task_id) ?? [];
  const result = await sql<StartRow & { dag_hash: string | null }>`
    with started as (
      update task_instance set ${runningSet(runner)}
      where dag_id = ${ti.dag_id} and run_id = ${ti.run_id} and task_id = ${ti.task_id}
        and map_index = ${ti.map_index} and state = 'queued' and try_number = ${claims.try_number}
      returning max_tries, next_method, next_kwargs
    )${claims.try_number > 1 ? sql`, ${clearEarlierXcoms(ti)}` : sql``}
    select started.max_tries, started.next_method, started.next_kwargs, ${reschedulesColumn(ti, claims.try_number)},
      ${runContextColumns(ti, refs)},
      (select dag_hash from serialized_dag where dag_id = ${ti.dag_id}) as dag_hash
    from started join dag_run dr on dr.dag_id = ${ti.dag_id} and dr.run_id = ${ti.run_id}`.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw await tiConflict(db, claims, "queued");

  if (row.dag_hash !== (dag?.hash ?? null)) {
    // The DAG changed since it was cached: read it again, and the XComs if the references differ.
    dag = row.dag_hash === null ? undefined : await loadDag(db, ti.dag_id, row.dag_hash);
    const fresh = dag?.xcomReferences(ti.task_id) ?? [];
    if (fresh.map((r) => r.prefetchKey).join("\n") !== refs.map((r) => r.prefetchKey).join("\n")) {
      refs = fresh;
      const again = await sql<{
        xcoms: StartRow["xcoms"];
      }>`select ${xcomSubquery(ti.dag_id, ti.run_id, refs)} as xcoms`.execute(db);
      row.xcoms = again.rows[0]?.xcoms ?? [];
    }
  }
  emitTiStart(options.metrics, ti.dag_id, ti.task_id);
  return startResponse(dag, ti, row, refs, options.heartbeatIntervalS ?? 5);
}
