import { sql } from "kysely";
import { setDagPaused as writeDagPaused, type DagRow, type Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import { dagNotFound } from "./ids.js";

/** Pauses or unpauses a DAG (DAG_NOT_FOUND if there is none) and tells the scheduler. */
export async function setDagPaused(
  db: Executor,
  dagId: string,
  paused: boolean,
  options: { events?: EngineEvents | null } = {},
): Promise<DagRow> {
  const row = await writeDagPaused(db, dagId, paused);
  if (row === undefined) throw dagNotFound(dagId);
  options.events?.emit({ type: "dag_changed", dag_id: dagId });
  return row;
}

/**
 * airflow/models/dagrun.py DagRun._check_last_n_dagruns_failed: after a run of the DAG failed,
 * pauses the DAG when its last `n` runs by logical date all failed, recording why in the audit
 * log (event "dag_paused"). Returns whether it paused the DAG now.
 */
export async function pauseAfterFailedRuns(db: Executor, dagId: string, n: number): Promise<boolean> {
  if (n <= 0) return false;
  const reason = `Paused because its last ${n} DAG runs failed (maxConsecutiveFailedDagRuns).`;
  const res = await sql<{ dag_id: string }>`
    with last as (
      select state from dag_run where dag_id = ${dagId}
      order by logical_date desc nulls last, id desc limit ${n}
    ), paused as (
      update dag set is_paused = true
      where dag_id = ${dagId} and not is_paused
        and (select count(*) from last) >= ${n}
        and not exists (select 1 from last where state <> 'failed')
      returning dag_id
    ), logged as (
      insert into log (event, dag_id, owner, extra)
      select 'dag_paused', dag_id, 'updraft', ${JSON.stringify({ is_paused: true, reason })} from paused
    )
    select dag_id from paused`.execute(db);
  return res.rows.length > 0;
}
