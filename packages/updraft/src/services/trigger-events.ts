// What happens to deferred task instances when their trigger is settled (decision 0030): an event
// from the triggerer that runs it schedules them again with the event in next_kwargs; a trigger
// that timed out schedules them with next_method `__fail__` (Airflow's), so the runner fails the
// try. Both are one guarded statement; the resumed try keeps its number (the defer took it back).
import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { TaskInstanceKey } from "../model/execution-api.js";

/** One trigger's event, from the triggerer that holds it. */
export interface FiredTrigger {
  trigger_id: number;
  /** The event's payload (JSON). */
  payload: unknown;
  /** The trigger failed (threw): its task fails with this message (next_method `__fail__`). */
  error?: string;
}

export type ResumedTi = TaskInstanceKey;

/** Tells the schedulers that task instances of these runs are scheduled (one event per run). */
function wakeSchedulers(events: EngineEvents | null, rows: readonly ResumedTi[]): void {
  const runs = new Map<string, { dag_id: string; run_id: string }>();
  for (const r of rows) runs.set(`${r.dag_id}\u0000${r.run_id}`, { dag_id: r.dag_id, run_id: r.run_id });
  for (const r of runs.values())
    events?.emit({ type: "ti_state_changed", dag_id: r.dag_id, run_id: r.run_id });
}

/**
 * Settles fired triggers held by `triggererId`: only a trigger that triggerer still holds counts
 * (one whose triggers were taken over changes nothing), and its task instance goes `deferred →
 * scheduled` only while it still waits on that trigger, with `next_kwargs.event` = the payload —
 * so each deferral resumes exactly once, whichever triggerer ran it. The settled trigger rows are
 * deleted by a second statement (no task refers to them any more; the clean-up would get them too).
 */
export async function submitTriggerEvents(
  db: Executor,
  triggererId: number,
  fired: readonly FiredTrigger[],
  events: EngineEvents | null,
): Promise<ResumedTi[]> {
  if (fired.length === 0) return [];
  const json = JSON.stringify(
    fired.map((f) => ({ trigger_id: f.trigger_id, payload: f.payload ?? null, error: f.error ?? null })),
  );
  const result = await sql<ResumedTi>`
    with ev as (
      select * from jsonb_to_recordset(${json}::jsonb) as e(trigger_id int, payload jsonb, error text)
    ), held as (
      select t.id, ev.payload, ev.error from trigger t join ev on t.id = ev.trigger_id
      where t.triggerer_id = ${triggererId}
    )
    update task_instance ti set state = 'scheduled', trigger_id = null, trigger_timeout = null,
      scheduled_dttm = now(),
      next_method = case when h.error is null then ti.next_method else '__fail__' end,
      next_kwargs = case when h.error is null
        then coalesce(ti.next_kwargs, '{}'::jsonb) || jsonb_build_object('event', h.payload)
        else jsonb_build_object('error', 'The trigger failed: ' || h.error) end,
      updated_at = now()
    from held h where ti.trigger_id = h.id and ti.state = 'deferred'
    returning ti.dag_id, ti.run_id, ti.task_id, ti.map_index`.execute(db);
  wakeSchedulers(events, result.rows);
  const ids = fired.map((f) => f.trigger_id);
  await sql`delete from trigger where triggerer_id = ${triggererId} and id = any(${ids}::int[])`.execute(db);
  return result.rows;
}

/**
 * Deferred task instances whose trigger_timeout has passed (by the database's clock) go to
 * scheduled with next_method `__fail__`; their trigger rows are left to the triggerers' clean-up.
 */
export async function timeOutDeferred(db: Executor, events: EngineEvents | null): Promise<ResumedTi[]> {
  const result = await sql<ResumedTi>`
    update task_instance set state = 'scheduled', trigger_id = null, trigger_timeout = null,
      next_method = '__fail__',
      next_kwargs = jsonb_build_object('timeout', true, 'error', 'the trigger did not fire before its timeout (' ||
        to_char(trigger_timeout at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ').'),
      scheduled_dttm = now(), updated_at = now()
    where state = 'deferred' and trigger_timeout < now()
    returning dag_id, run_id, task_id, map_index`.execute(db);
  wakeSchedulers(events, result.rows);
  return result.rows;
}
