// Scheduled DAG run creation: claim the dag rows whose next run is due by the database's clock
// (FOR UPDATE SKIP LOCKED, so each due DAG is handled by one scheduler), create the run and its
// task instances in one statement, and advance next_dagrun* with the timetable. The unique
// (dag_id, logical_date) index makes a double create impossible; a conflict means "already there".
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import { generateRunId } from "../model/run-id.js";
import { insertRuns, loadDag } from "../services/index.js";
import type { SchedulerContext } from "./context.js";

interface DueDag {
  dag_id: string;
  next_dagrun: Date | null;
  next_dagrun_data_interval_start: Date | null;
  next_dagrun_data_interval_end: Date | null;
  dag_hash: string;
  now: Date;
}

export interface CreatedRun {
  dagId: string;
  runId: string;
  /** Milliseconds between the run's data interval end (when it was due) and its creation: dagrun.schedule_delay. */
  scheduleDelayMs: number | null;
}

/** Creates the due scheduled runs of up to `limit` DAGs; returns the runs created. */
export async function createDagRuns(ctx: SchedulerContext, limit = 50): Promise<CreatedRun[]> {
  const defaultMaxRuns = ctx.config.core.max_active_runs_per_dag;
  return ctx.db.transaction().execute(async (trx) => {
    // A DAG at its max_active_runs is not due: its next run is created once a run finishes.
    const due = await sql<DueDag>`
      select d.dag_id, d.next_dagrun, d.next_dagrun_data_interval_start, d.next_dagrun_data_interval_end,
        s.dag_hash, now() as now
      from dag d join serialized_dag s on s.dag_id = d.dag_id
      where d.is_active and not d.is_paused and not d.has_import_errors
        and d.next_dagrun_create_after <= now()
        and (select count(*) from dag_run r
             where r.dag_id = d.dag_id and r.state in ('queued', 'running') and r.run_type <> 'backfill')
            < coalesce(d.max_active_runs, ${defaultMaxRuns})
      order by d.next_dagrun_create_after, d.dag_id
      limit ${limit}
      for no key update of d skip locked`.execute(trx);
    if (due.rows.length === 0) return [];
    await ctx.hooks.afterDagClaim?.({ dagIds: due.rows.map((d) => d.dag_id) });
    const created: CreatedRun[] = [];
    for (const d of due.rows) {
      const plan = await loadDag(trx, d.dag_id, d.dag_hash);
      if (plan === undefined || d.next_dagrun === null) continue;
      try {
        const runId = await createScheduledRun(trx, plan, d);
        if (runId !== null) {
          const due = d.next_dagrun_data_interval_end ?? d.next_dagrun;
          const scheduleDelayMs = due === null ? null : Math.max(0, d.now.getTime() - due.getTime());
          created.push({ dagId: d.dag_id, runId, scheduleDelayMs });
        }
        await advance(ctx, trx, plan, d);
      } catch (err) {
        // A bad schedule must not stop other DAGs: stop scheduling this one and say why.
        ctx.logger.error(
          { dag_id: d.dag_id, err: err instanceof Error ? err.message : String(err) },
          "Cannot create the next run; scheduling of this DAG stops until its file is fixed",
        );
        await trx
          .updateTable("dag")
          .set({ next_dagrun_create_after: null })
          .where("dag_id", "=", d.dag_id)
          .execute();
      }
    }
    return created;
  });
}

/** Inserts the run and its task instances (mapped tasks get their placeholder, map index -1). */
async function createScheduledRun(db: Db, plan: DagPlan, d: DueDag): Promise<string | null> {
  const logical = d.next_dagrun ?? d.now;
  const created = await insertRuns(db, plan, [
    {
      runId: generateRunId("scheduled", logical),
      runType: "scheduled",
      logicalDate: logical,
      dataIntervalStart: d.next_dagrun_data_interval_start,
      dataIntervalEnd: d.next_dagrun_data_interval_end,
    },
  ]);
  return created[0]?.run_id ?? null;
}

/** Moves next_dagrun* past the interval just created (catchup, start and end dates per the timetable). */
async function advance(ctx: SchedulerContext, db: Db, plan: DagPlan, d: DueDag): Promise<void> {
  const timetable = plan.timetable(ctx.config.core.default_timezone);
  const start = d.next_dagrun_data_interval_start ?? d.next_dagrun ?? d.now;
  const end = d.next_dagrun_data_interval_end ?? start;
  const info = timetable.nextDagRunInfo({
    lastAutomatedDataInterval: { start, end },
    restriction: {
      earliest: plan.dag.start_date === null ? null : new Date(plan.dag.start_date),
      latest: plan.dag.end_date === null ? null : new Date(plan.dag.end_date),
      catchup: plan.dag.catchup,
    },
    now: d.now,
  });
  await db
    .updateTable("dag")
    .set({
      next_dagrun: info?.logicalDate ?? null,
      next_dagrun_data_interval_start: info?.dataInterval.start ?? null,
      next_dagrun_data_interval_end: info?.dataInterval.end ?? null,
      next_dagrun_create_after: info?.runAfter ?? null,
    })
    .where("dag_id", "=", d.dag_id)
    .execute();
}
