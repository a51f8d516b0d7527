// Creating DAG runs with their task instances, for every kind of run (manual trigger, schedule,
// backfill): one statement inserts the runs and, for each run created, one task instance per task
// of the DAG (a mapped task gets its placeholder, map index -1) with the columns the DagPlan gives.
// A run whose id or logical date exists already is left alone (the unique indexes decide).
import { sql } from "kysely";
import type { DagRunRow, Executor, JsonValue } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import type { DagRunType } from "../model/states.js";

export interface NewRun {
  runId: string;
  runType: DagRunType;
  logicalDate: Date | null;
  dataIntervalStart: Date | null;
  dataIntervalEnd: Date | null;
  conf?: Record<string, JsonValue>;
  externalTrigger?: boolean;
  /** The backfill (job id) that made the run. */
  creatingJobId?: number | null;
}

/** Inserts `runs` (state queued) of the plan's DAG and their task instances; returns the runs created. */
export async function insertRuns(db: Executor, plan: DagPlan, runs: readonly NewRun[]): Promise<DagRunRow[]> {
  if (runs.length === 0) return [];
  const rows = runs.map((r) => ({
    run_id: r.runId,
    run_type: r.runType,
    logical_date: r.logicalDate?.toISOString() ?? null,
    start: r.dataIntervalStart?.toISOString() ?? null,
    end: r.dataIntervalEnd?.toISOString() ?? null,
    conf: r.conf ?? {},
    external_trigger: r.externalTrigger ?? false,
    creating_job_id: r.creatingJobId ?? null,
  }));
  const result = await sql<DagRunRow>`
    with r as (
      insert into dag_run (dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end,
        state, conf, external_trigger, creating_job_id, dag_hash)
      select ${plan.dag.dag_id}, x.run_id, x.run_type, x.logical_date, x.start, x."end", 'queued', x.conf,
        x.external_trigger, x.creating_job_id, ${plan.hash}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(run_id text, run_type text, logical_date timestamptz, start timestamptz, "end" timestamptz,
          conf jsonb, external_trigger boolean, creating_job_id int)
      on conflict do nothing
      returning *
    ), tis as (
      insert into task_instance (dag_id, run_id, task_id, map_index, max_tries, pool, pool_slots,
        priority_weight, queue, operator, executor, run_logical_date)
      select r.dag_id, r.run_id, t.task_id, -1, t.max_tries, t.pool, t.pool_slots, t.priority_weight, t.queue,
        t.operator, t.executor, r.logical_date
      from r cross join jsonb_to_recordset(${plan.newTaskInstancesJson()}::jsonb)
        as t(task_id text, max_tries int, pool text, pool_slots int, priority_weight int, queue text, operator text,
          executor text)
      returning 1
    )
    select * from r`.execute(db);
  return result.rows;
}
