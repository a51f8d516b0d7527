// The scheduler's part in reschedule and deferral (decision 0030): waking for a sensor's reschedule
// date (an event carries it; the periodic pass is the safety net, comparing next_retry_at with
// now() as for retries), and failing deferred tries whose trigger timed out (Airflow's
// check_trigger_timeouts, in the periodic pass).
import { timeOutDeferred } from "../services/index.js";
import type { SchedulerContext } from "./context.js";

/** Timers that ask for a run's evaluation when one of its sensors' reschedule dates comes. */
export class RescheduleTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  /** At `atIso` (local clock; a little late is fine), calls `due(dagId, runId)`. One timer per run and date. */
  add(dagId: string, runId: string, atIso: string, due: (dagId: string, runId: string) => void): void {
    const at = Date.parse(atIso);
    if (Number.isNaN(at)) return;
    const key = `${dagId}\u0000${runId}\u0000${at}`;
    if (this.timers.has(key)) return;
    // A few ms after the date, so that now() in the database has passed it too.
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        due(dagId, runId);
      },
      Math.max(0, at - Date.now()) + 20,
    );
    t.unref?.();
    this.timers.set(key, t);
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** Deferred tries past their trigger_timeout go to scheduled with next_method `__fail__`. */
export async function timeOutDeferredTries(ctx: SchedulerContext): Promise<number> {
  const rows = await timeOutDeferred(ctx.db, ctx.events);
  if (rows.length > 0)
    ctx.logger.info({ count: rows.length }, "Deferred tasks whose trigger timed out are scheduled to fail");
  return rows.length;
}
