// The trigger table's claims (decision 0030): triggerers share the triggers by a guarded claim
// with FOR UPDATE SKIP LOCKED, and take over those of a triggerer whose job heartbeat is stale.
import { sql } from "kysely";
import type { Executor } from "../executor.js";
import type { JsonValue } from "../schema.js";

export const TRIGGERER_JOB_TYPE = "triggerer";

export interface ClaimedTrigger {
  id: number;
  classpath: string;
  kwargs: Record<string, JsonValue>;
}

/**
 * Claims up to `limit` triggers for `triggererId`: unclaimed ones, and ones whose triggerer is not
 * a running triggerer job with a heartbeat newer than `staleAfterS` (by the database's clock).
 * Only triggers that a deferred task instance still waits on are claimed; oldest first.
 */
export async function claimTriggers(
  db: Executor,
  triggererId: number,
  limit: number,
  staleAfterS: number,
): Promise<ClaimedTrigger[]> {
  if (limit <= 0) return [];
  const result = await sql<ClaimedTrigger>`
    with alive as (
      select id from job where job_type = ${TRIGGERER_JOB_TYPE} and state = 'running'
        and latest_heartbeat > now() - make_interval(secs => ${staleAfterS})
    ), pick as (
      select t.id from trigger t
      where (t.triggerer_id is null or t.triggerer_id not in (select id from alive))
        and exists (select 1 from task_instance ti where ti.trigger_id = t.id and ti.state = 'deferred')
      order by t.id
      limit ${limit}
      for update of t skip locked
    )
    update trigger t set triggerer_id = ${triggererId} from pick where t.id = pick.id
    returning t.id, t.classpath, t.kwargs`.execute(db);
  return result.rows;
}

/** The ids of the triggers `triggererId` holds now (others may have taken some over). */
export async function heldTriggerIds(db: Executor, triggererId: number): Promise<Set<number>> {
  const result = await sql<{
    id: number;
  }>`select id from trigger where triggerer_id = ${triggererId}`.execute(db);
  return new Set(result.rows.map((r) => r.id));
}

/**
 * Deletes triggers no task instance refers to any more (their task was cleared, marked, or timed
 * out), as Airflow's Trigger.clean_unused. A triggerer running one stops it at its next check.
 */
export async function deleteUnusedTriggers(db: Executor): Promise<number> {
  const result = await sql`
    delete from trigger t
    where not exists (select 1 from task_instance ti where ti.trigger_id = t.id)
      and t.created_date < now() - interval '10 seconds'`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Gives back `triggerer`'s triggers (a triggerer stopping): another claims them at once. */
export async function releaseTriggers(db: Executor, triggererId: number): Promise<void> {
  await sql`update trigger set triggerer_id = null where triggerer_id = ${triggererId}`.execute(db);
}
