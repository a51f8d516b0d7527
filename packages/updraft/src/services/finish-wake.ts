// The wake-up of a finish (decision 0011 §4, 0038): what the statement reads to tell the scheduler
// whether the run may be over, the `ti_finished` event, and the re-read at a run's tail after
// the commit.
import { sql, type RawBuilder } from "kysely";
import type { Executor } from "../db/index.js";
import type { TokenClaims } from "../model/execution-api.js";
import { UNFINISHED_TI_STATES } from "../model/states.js";
import type { FinishInput, TiFinished } from "./finish-input.js";

const UNFINISHED_SQL = sql.raw(
  UNFINISHED_TI_STATES.filter((s) => s !== null)
    .map((s) => `'${s}'`)
    .join(","),
);

/**
 * Whether the run has another unfinished task instance (one probe of the partial index; the
 * decisions of this statement only ever make instances scheduled, never finished): if not, the
 * run may be over.
 */
export function unfinishedSql(input: FinishInput): RawBuilder<unknown> {
  const { ti } = input.claims;
  return sql`(select count(*)::int from (select 1 from task_instance u
      where u.dag_id = ${ti.dag_id} and u.run_id = ${ti.run_id}
        and (u.state is null or u.state in (${UNFINISHED_SQL}))
        and not (u.task_id = ${ti.task_id} and u.map_index = ${ti.map_index})
      limit 1) as u)`;
}

/**
 * Whether every other unfinished instance of the run is in flight (running or queued), as the
 * statement reads them: then another finish may run at the same time, and each statement, blind to
 * the other's uncommitted end, sees the other still running; neither would ask for the run check.
 */
export function inFlightOnlySql(input: FinishInput): RawBuilder<unknown> {
  const { ti } = input.claims;
  return sql`not exists (select 1 from task_instance u
      where u.dag_id = ${ti.dag_id} and u.run_id = ${ti.run_id}
        and (u.state is null or (u.state in (${UNFINISHED_SQL}) and u.state not in ('running', 'queued')))
        and not (u.task_id = ${ti.task_id} and u.map_index = ${ti.map_index}))`;
}

/**
 * After the finish committed, at the run's tail only: if no instance of the run is unfinished any
 * more, the scheduler is asked for the run check that two concurrent finishes each left to the
 * other (the later commit's re-read sees both ends). Without it the run waited for the periodic
 * pass (scheduler_heartbeat_sec), up to 5 s after its last task.
 */
export async function recheckRunEnd(
  db: Executor,
  claims: TokenClaims,
  state: string,
): Promise<TiFinished | null> {
  const { ti } = claims;
  const r = await sql<{ open: boolean }>`select exists (select 1 from task_instance u
      where u.dag_id = ${ti.dag_id} and u.run_id = ${ti.run_id}
        and (u.state is null or u.state in (${UNFINISHED_SQL}))) as open`.execute(db);
  return r.rows[0]?.open === false ? wakeEvent(claims, state, 0, true) : null;
}

/** The `ti_finished` event telling the scheduler what this finish left to it. */
export function wakeEvent(
  claims: TokenClaims,
  state: string,
  scheduled: number,
  runCheck: boolean,
  evaluate: readonly string[] = [],
): TiFinished {
  const { ti } = claims;
  return {
    type: "ti_finished",
    dag_id: ti.dag_id,
    run_id: ti.run_id,
    task_id: ti.task_id,
    map_index: ti.map_index,
    state,
    scheduled,
    run_check: runCheck,
    evaluate: [...evaluate],
  };
}
