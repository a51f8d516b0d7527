// A running try that waits without its runner (decision 0030): `running → deferred` on a new
// trigger row, or `running → up_for_reschedule` with a task_reschedule row. Neither ends the try:
// try_number goes back by one (as Airflow 2 does) so that the scheduler's queuing, which counts a
// try, gives the resumed run the same number. One guarded statement each; no row back is a 409.
import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { DeferRequest, RescheduleRequest, TokenClaims } from "../model/execution-api.js";
import { tiConflict } from "./ti-conflict.js";

export interface DeferOptions {
  events: EngineEvents | null;
}

function keyWhere(claims: TokenClaims) {
  const { ti } = claims;
  return sql`t.dag_id = ${ti.dag_id} and t.run_id = ${ti.run_id} and t.task_id = ${ti.task_id}
    and t.map_index = ${ti.map_index} and t.state = 'running' and t.try_number = ${claims.try_number}`;
}

/** `running → deferred`: the trigger row and the task instance's next_method in one statement. */
export async function deferTaskInstance(
  db: Executor,
  claims: TokenClaims,
  body: DeferRequest,
  options: DeferOptions,
): Promise<{ state: "deferred"; trigger_id: number }> {
  const timeout = body.timeout_s ?? null;
  const result = await sql<{ trigger_id: number; dag_id: string; run_id: string }>`
    with trig as (
      insert into trigger (classpath, kwargs)
      select ${body.classpath}, ${JSON.stringify(body.trigger_kwargs)}::jsonb
      where exists (select 1 from task_instance t where ${keyWhere(claims)})
      returning id
    ), upd as (
      update task_instance t set state = 'deferred', trigger_id = (select id from trig),
        trigger_timeout = case when ${timeout}::float8 is null then null
          else now() + make_interval(secs => ${timeout}::float8) end,
        next_method = ${body.next_method}, next_kwargs = ${JSON.stringify(body.next_kwargs ?? {})}::jsonb,
        try_number = t.try_number - 1, end_date = now(),
        duration = extract(epoch from (now() - coalesce(t.start_date, now())))::float8,
        pid = null, last_heartbeat_at = null, updated_at = now()
      where ${keyWhere(claims)} and exists (select 1 from trig)
      returning t.dag_id, t.run_id
    )
    select (select id from trig) as trigger_id, dag_id, run_id from upd`.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw await tiConflict(db, claims, "running");
  options.events?.emit({ type: "trigger_created", trigger_id: row.trigger_id });
  return { state: "deferred", trigger_id: row.trigger_id };
}

/**
 * `running → up_for_reschedule` until `reschedule_date` (kept in next_retry_at, which the scheduler
 * compares with now() as for a retry), and the poke's task_reschedule row.
 */
export async function rescheduleTaskInstance(
  db: Executor,
  claims: TokenClaims,
  body: RescheduleRequest,
  options: DeferOptions,
): Promise<{ state: "up_for_reschedule"; reschedule_date: string }> {
  const at = new Date(body.reschedule_date);
  const result = await sql<{ dag_id: string; run_id: string }>`
    with upd as (
      update task_instance t set state = 'up_for_reschedule', next_retry_at = ${at},
        try_number = t.try_number - 1, end_date = now(),
        duration = extract(epoch from (now() - coalesce(t.start_date, now())))::float8,
        pid = null, last_heartbeat_at = null, updated_at = now()
      where ${keyWhere(claims)}
      returning t.dag_id, t.run_id, t.task_id, t.map_index, t.start_date
    ), hist as (
      insert into task_reschedule (dag_id, run_id, task_id, map_index, try_number, start_date, end_date,
        duration, reschedule_date)
      select dag_id, run_id, task_id, map_index, ${claims.try_number}, coalesce(start_date, now()), now(),
        extract(epoch from (now() - coalesce(start_date, now())))::float8, ${at}
      from upd
    )
    select dag_id, run_id from upd`.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw await tiConflict(db, claims, "running");
  options.events?.emit({
    type: "ti_rescheduled",
    dag_id: row.dag_id,
    run_id: row.run_id,
    at: at.toISOString(),
  });
  return { state: "up_for_reschedule", reschedule_date: at.toISOString() };
}
