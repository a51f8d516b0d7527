import { sql } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import { pollMs, sleep, type TriggerFn } from "../runtime.js";

/** The kwargs of ExternalTaskTrigger / DagRunStateTrigger (sdk/triggers.ts ExternalTaskTriggerKwargs). */
interface Watch {
  dagId: string;
  taskIds: string[] | null;
  logicalDates: string[];
  runIds: string[];
  allowed: string[];
  failed: string[];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function watchOf(kwargs: Record<string, unknown>, withTasks: boolean): Watch {
  const dagId = kwargs["dagId"];
  if (typeof dagId !== "string" || dagId === "")
    throw new UpdraftError("TRIGGER_INVALID", "ExternalTaskTrigger: kwargs.dagId is required.");
  const taskIds = withTasks && Array.isArray(kwargs["taskIds"]) ? strings(kwargs["taskIds"]) : null;
  const allowed = strings(kwargs["allowedStates"]);
  return {
    dagId,
    taskIds: taskIds !== null && taskIds.length > 0 ? taskIds : null,
    logicalDates: strings(kwargs["logicalDates"]).map((d) => new Date(d).toISOString()),
    runIds: strings(kwargs["runIds"]),
    allowed: allowed.length > 0 ? allowed : ["success"],
    failed: strings(kwargs["failedStates"]),
  };
}

/** [run_id, task_id or null, state] of every watched row; missing runs or instances are absent. */
async function states(
  db: Parameters<TriggerFn>[1]["db"],
  w: Watch,
): Promise<[string, string | null, string | null][]> {
  const runs = sql`select run_id from dag_run where dag_id = ${w.dagId} and (
      run_id = any(${w.runIds}::text[])
      or logical_date = any(${w.logicalDates}::timestamptz[]))`;
  if (w.taskIds === null) {
    const r = await sql<{ run_id: string; state: string }>`
      select run_id, state from dag_run where dag_id = ${w.dagId} and run_id in (${runs})`.execute(db);
    return r.rows.map((x) => [x.run_id, null, x.state]);
  }
  const r = await sql<{ run_id: string; task_id: string; state: string | null }>`
    select run_id, task_id, state from task_instance
    where dag_id = ${w.dagId} and task_id = any(${w.taskIds}::text[]) and run_id in (${runs})`.execute(db);
  return r.rows.map((x) => [x.run_id, x.task_id, x.state]);
}

/**
 * Watches another DAG's runs (without taskIds) or task instances, by querying the metadata
 * database: `failed` as soon as one is in failedStates; `success` when every watched run (and, with
 * taskIds, every task of each run, all map indexes) exists and is in allowedStates.
 */
function watcher(withTasks: boolean): TriggerFn {
  return async (kwargs, ctx) => {
    const w = watchOf(kwargs, withTasks);
    const expectedRuns = w.runIds.length + w.logicalDates.length;
    const interval = pollMs(kwargs, 5);
    for (;;) {
      const rows = await states(ctx.db, w);
      const bad = rows.filter(([, , s]) => s !== null && w.failed.includes(s));
      if (bad.length > 0)
        return {
          status: "failed",
          message: `${bad.map(([r, t, s]) => `${w.dagId}${t === null ? "" : `.${t}`} in run ${r} is ${String(s)}`).join("; ")} (failedStates ${w.failed.join(", ")})`,
          states: rows,
        };
      const runsSeen = new Set(rows.map(([r]) => r));
      const pairs = new Set(rows.map(([r, t]) => `${r}\u0000${t ?? ""}`));
      const complete =
        runsSeen.size >= expectedRuns &&
        (w.taskIds === null || pairs.size >= runsSeen.size * w.taskIds.length);
      if (complete && rows.every(([, , s]) => s !== null && w.allowed.includes(s)))
        return { status: "success", states: rows };
      await sleep(interval, ctx.signal);
    }
  };
}

export const externalTaskTrigger = watcher(true);
export const dagRunStateTrigger = watcher(false);
