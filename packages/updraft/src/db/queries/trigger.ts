import type { Executor } from "../executor.js";
import type { JsonValue, TriggerRow } from "../schema.js";
import { toJson } from "../schema.js";

/** Stores a trigger for a deferred task; returns it with its id. */
export async function createTrigger(
  db: Executor,
  trigger: { classpath: string; kwargs: Record<string, JsonValue> },
): Promise<TriggerRow> {
  return db
    .insertInto("trigger")
    .values({ classpath: trigger.classpath, kwargs: toJson(trigger.kwargs) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getTrigger(db: Executor, id: number): Promise<TriggerRow | undefined> {
  return db.selectFrom("trigger").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Triggers assigned to a triggerer, or unassigned ones when `triggererId` is null. */
export async function listTriggers(db: Executor, triggererId: number | null): Promise<TriggerRow[]> {
  const q = db.selectFrom("trigger").selectAll().orderBy("id");
  return (
    triggererId === null ? q.where("triggerer_id", "is", null) : q.where("triggerer_id", "=", triggererId)
  ).execute();
}

/** Deletes triggers no task instance waits on any more; returns how many. */
export async function deleteOrphanTriggers(db: Executor): Promise<number> {
  const result = await db
    .deleteFrom("trigger")
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("task_instance")
            .select("task_instance.trigger_id")
            .whereRef("task_instance.trigger_id", "=", "trigger.id"),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
