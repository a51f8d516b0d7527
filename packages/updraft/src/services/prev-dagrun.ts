// Airflow's PrevDagrunDep (airflow/ti_deps/deps/prev_dagrun_dep.py) for the depends_on_past tasks
// of one run: which of them must wait for the previous run, and why. Read only for DAGs that have
// such tasks, and only for tasks with an instance still to be decided: other DAGs pay nothing.
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import type { PastBlocks, TiSnapshot } from "../model/evaluate-run.js";
import { DEP as DEP_NAMES } from "../model/explain-dependencies.js";

interface PastRow {
  task_id: string;
  prev_run_id: string | null;
  prev_logical_date: Date | null;
  /** Instances of the task in the previous run. */
  n: number;
  /** Of them, not success or skipped (unfinished ones count, as in Airflow). */
  unsuccessful: number;
  /** The task has an instance in a run with an earlier logical date. */
  prior: boolean;
  /** A direct downstream instance in the previous run is not success or skipped. */
  downstream_unsuccessful: boolean;
}

/** The reason prefix, Airflow's dep name, so that the dependencies view shows it as such. */
const DEP = DEP_NAMES.previousDagrun;

/**
 * The depends_on_past tasks of the run that may not run yet, with the reason. `tis` are the
 * instances the evaluation read: tasks without an undecided instance among them are not checked.
 */
export async function pastBlocks(
  db: Db,
  plan: DagPlan,
  dagId: string,
  runId: string,
  tis: readonly TiSnapshot[],
): Promise<PastBlocks> {
  const out = new Map<string, string>();
  if (plan.pastTasks.length === 0) return out;
  const undecided = new Set(tis.filter((t) => t.state === null).map((t) => t.task_id));
  const tasks = plan.pastTasks.filter((tp) => undecided.has(tp.id));
  if (tasks.length === 0) return out;
  const wanted = JSON.stringify(
    tasks.map((tp) => ({
      task_id: tp.id,
      downstream: tp.task.wait_for_downstream ? tp.downstream : [],
    })),
  );
  // With catchup the previous run is the previous scheduled (not manual) one:
  // DagRun.get_previous_scheduled_dagrun; else any earlier run: DagRun.get_previous_dagrun.
  const notManual = plan.dag.catchup ? sql`and p.run_type <> 'manual'` : sql``;
  const res = await sql<PastRow>`
    with cur as (
      select logical_date from dag_run where dag_id = ${dagId} and run_id = ${runId}
    ), prev as (
      select p.run_id, p.logical_date from dag_run p, cur
      where p.dag_id = ${dagId} and p.logical_date < cur.logical_date ${notManual}
      order by p.logical_date desc limit 1
    )
    select w.task_id, prev.run_id as prev_run_id, prev.logical_date as prev_logical_date,
      (select count(*)::int from task_instance x
        where x.dag_id = ${dagId} and x.run_id = prev.run_id and x.task_id = w.task_id) as n,
      (select count(*)::int from task_instance x
        where x.dag_id = ${dagId} and x.run_id = prev.run_id and x.task_id = w.task_id
          and (x.state is null or x.state not in ('success', 'skipped'))) as unsuccessful,
      -- Read only when the previous run has no instance of the task (a scan of the task's history).
      case when exists (select 1 from task_instance x
          where x.dag_id = ${dagId} and x.run_id = prev.run_id and x.task_id = w.task_id) then true
        else exists (select 1 from task_instance x, cur
          where x.dag_id = ${dagId} and x.task_id = w.task_id and x.run_logical_date < cur.logical_date)
      end as prior,
      exists (select 1 from task_instance x
        where x.dag_id = ${dagId} and x.run_id = prev.run_id
          and x.task_id in (select jsonb_array_elements_text(w.downstream))
          and (x.state is null or x.state not in ('success', 'skipped'))) as downstream_unsuccessful
    from jsonb_to_recordset(${wanted}::jsonb) as w(task_id text, downstream jsonb)
      left join prev on true`.execute(db);
  for (const r of res.rows) {
    const tp = plan.tasks.get(r.task_id);
    if (tp === undefined) continue;
    const reason = blockReason(plan, tp.task, r);
    if (reason !== null) out.set(r.task_id, reason);
  }
  return out;
}

/** PrevDagrunDep's decision for one task, in its order of checks; null when the task may run. */
function blockReason(
  plan: DagPlan,
  task: { start_date: string | null; ignore_first_depends_on_past: boolean },
  r: PastRow,
): string | null {
  // The first run of the DAG: nothing to wait for.
  if (r.prev_run_id === null || r.prev_logical_date === null) return null;
  // With catchup, a previous run from before the task's start date: the task was not active then.
  const start = task.start_date ?? plan.dag.start_date;
  if (plan.dag.catchup && start !== null && r.prev_logical_date.getTime() < Date.parse(start)) return null;
  if (r.n === 0) {
    // A task new to the DAG: with ignore_first_depends_on_past, its first instance does not wait.
    if (task.ignore_first_depends_on_past && !r.prior) return null;
    return `${DEP}: dependsOnPast is set for this task, but it has no instance in the previous run (${r.prev_run_id}) yet.`;
  }
  if (r.unsuccessful > 0)
    return `${DEP}: dependsOnPast is set for this task, but ${r.unsuccessful} of its instance(s) in the previous run (${r.prev_run_id}) did not succeed or skip yet.`;
  if (r.downstream_unsuccessful)
    return `${DEP}: waitForDownstream is set for this task, but its direct downstream tasks in the previous run (${r.prev_run_id}) have not all succeeded or skipped yet.`;
  return null;
}
