// Marking a whole run by hand (the API's PATCH on a DAG run, the UI's "mark success/failed"), with
// Airflow 2.10's meaning (airflow/api/common/mark_tasks.py, set_dag_run_state_to_success /
// _to_failed / _to_queued). A running try marked this way is refused at its next heartbeat and
// its runner stops; its late finish changes nothing.
import { sql } from "kysely";
import { inTransaction, transitionDagRun, type DagRunRow, type Executor } from "../db/index.js";
import { DAG_RUN_STATES } from "../model/states.js";
import type { EngineEvents } from "../events/engine-events.js";
import { loadDag } from "./dag-cache.js";
import { runNotFound } from "./ids.js";

export type MarkableRunState = "success" | "failed" | "queued";

/** States in which a try is under way (Airflow's running_states for marking a run failed). */
const UNDER_WAY = ["running", "deferred", "up_for_reschedule", "restarting"] as const;
const FINISHED = ["success", "failed", "skipped", "upstream_failed", "removed"] as const;

export interface SetDagRunStateResult {
  run: DagRunRow;
  /** Task instances whose state this changed. */
  changed: number;
}

/**
 * success: every task instance of the run becomes success, and the run. failed: tries under way
 * fail, unfinished instances are skipped, the run fails; teardown tasks are left to run, as
 * Airflow leaves them. queued: the run is queued again for the scheduler (task states kept).
 * DAG_RUN_NOT_FOUND when there is no such run.
 */
export async function setDagRunState(
  db: Executor,
  target: { dagId: string; runId: string; state: MarkableRunState },
  options: { events?: EngineEvents | null } = {},
): Promise<SetDagRunStateResult> {
  const teardowns = await teardownIds(db, target.dagId);
  const result = await inTransaction(db, async (tx) => {
    const run = await tx
      .selectFrom("dag_run")
      .selectAll()
      .where("dag_id", "=", target.dagId)
      .where("run_id", "=", target.runId)
      .forUpdate()
      .executeTakeFirst();
    if (run === undefined) throw runNotFound(target.dagId, target.runId);
    const ofRun = tx
      .updateTable("task_instance")
      .where("dag_id", "=", target.dagId)
      .where("run_id", "=", target.runId);
    const ended = {
      start_date: sql<Date>`coalesce(start_date, now())`,
      end_date: sql<Date>`now()`,
      duration: sql<number>`extract(epoch from now() - coalesce(start_date, now()))`,
      updated_at: sql<Date>`now()`,
    };
    let changed = 0;
    if (target.state === "success") {
      const r = await ofRun
        .set({ state: "success", ...ended })
        .where((eb) => eb.or([eb("state", "is", null), eb("state", "!=", "success")]))
        .executeTakeFirst();
      changed = Number(r.numUpdatedRows);
    } else if (target.state === "failed") {
      const spare = (q: typeof ofRun) =>
        teardowns.length === 0 ? q : q.where("task_id", "not in", teardowns);
      const failed = await spare(ofRun)
        .set({ state: "failed", ...ended })
        .where("state", "in", UNDER_WAY)
        .executeTakeFirst();
      const skipped = await spare(ofRun)
        .set({ state: "skipped", ...ended })
        .where((eb) =>
          eb.or([eb("state", "is", null), eb("state", "not in", [...FINISHED, ...UNDER_WAY, "failed"])]),
        )
        .executeTakeFirst();
      changed = Number(failed.numUpdatedRows) + Number(skipped.numUpdatedRows);
    }
    // Through the one place that moves a run's state (dates set as every other move sets them).
    const updated = await transitionDagRun(
      tx,
      { dagId: target.dagId, runId: target.runId },
      { from: DAG_RUN_STATES, to: target.state },
    );
    if (updated === undefined) throw new Error("the run locked above vanished inside its transaction");
    return { run: updated, changed };
  });
  const key = { dag_id: target.dagId, run_id: target.runId };
  options.events?.emit(
    target.state === "queued" ? { type: "dag_run_created", ...key } : { type: "ti_state_changed", ...key },
  );
  return result;
}

/** The DAG's teardown tasks (empty when its serialized DAG is gone). */
async function teardownIds(db: Executor, dagId: string): Promise<string[]> {
  const dag = await loadDag(db, dagId);
  return dag === undefined ? [] : dag.dag.tasks.filter((t) => t.is_teardown).map((t) => t.task_id);
}
