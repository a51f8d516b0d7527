// Handing the next try to the runner that just finished one, in the same statement as the finish
// (decision 0011): the finished try frees one executor slot, one slot of its pool and one active
// task of its run; the next try takes exactly those, so no limit can be exceeded and no lock on the
// pools is needed. The next try must be the one the scheduler would queue first: the head of the
// scheduled backlog in claim order, or a downstream task this finish makes ready when it comes
// earlier — and it must fit the freed slot. Anything else is left to the scheduler. The head may be
// in another run of the same DAG when no run of it can reach its max_active_tasks (decision 0040).
import { sql, type RawBuilder } from "kysely";
import type { DagPlan } from "../model/dag-plan.js";
import type { RunnerIdentity } from "./start-context.js";
import { runningSet } from "./start-context.js";

/**
 * The task ids of the DAG a freed slot of `finishedTaskId` may NOT go to: tasks that need a fresh
 * process, or have a per-task limit another instance could be counted against
 * (max_active_tis_per_dag, max_active_tis_per_dagrun) — unless it is the finished task itself,
 * whose count does not change (the hand-over stays in the finished try's run). Usually none.
 */
export function notHandedOver(plan: DagPlan, finishedTaskId: string): string[] {
  const ids: string[] = [];
  for (const tp of plan.order) {
    const t = tp.task;
    const limited = t.max_active_tis_per_dag !== null || t.max_active_tis_per_dagrun !== null;
    if (t.fresh_process || (limited && t.task_id !== finishedTaskId)) ids.push(t.task_id);
  }
  return ids;
}

/** When and where a freed slot may go to another run of the finished try's DAG (see crossRun). */
export interface CrossRun {
  /** The DAG version the other run must have been created with. */
  hash: string;
  /** The most task instances the other run may have: its max_active_tasks. */
  maxTasks: number;
  /** Task ids never handed to another run. */
  excluded: string[];
}

/**
 * Whether a slot freed in one run may start the head of the backlog in another run of the same DAG
 * (decision 0040). The scheduler counts a run's active task instances under its pool lock, which a
 * hand-over does not take: a hand-over into another run adds one the scheduler may not see. That
 * is safe only where no run can reach max_active_tasks at all — the DAG has no mapped task (a run's
 * task instances are its tasks, one each) and no more tasks than max_active_tasks; the statement
 * checks the other run was created with this version and holds no more instances than that. A
 * per-run task limit (max_active_tis_per_dagrun) changes with the run: such tasks stay in theirs;
 * max_active_tis_per_dag does not, for the finished task itself.
 */
export function crossRun(
  plan: DagPlan,
  finishedTaskId: string,
  maxActiveTasksPerDag: number,
): CrossRun | null {
  const maxTasks = plan.dag.max_active_tasks ?? maxActiveTasksPerDag;
  if (plan.order.length > maxTasks || plan.order.some((tp) => tp.mapped)) return null;
  const excluded: string[] = [];
  for (const tp of plan.order) {
    const t = tp.task;
    const limited =
      t.max_active_tis_per_dagrun !== null ||
      (t.max_active_tis_per_dag !== null && t.task_id !== finishedTaskId);
    if (t.fresh_process || limited) excluded.push(t.task_id);
  }
  return { hash: plan.hash, maxTasks, excluded };
}

/**
 * CTEs choosing and starting the next try on `runner`:
 * - `head`: the first scheduled task instance in claim order (locked; a concurrent claimer skips it);
 * - `fresh`: the downstream task instances the statement's decisions (CTE `dec`, columns task_id,
 *   map_index, from_state, to_state, pos) schedule, as they are now;
 * - `pick`: the first of both in claim order — priority, the run's logical date, who waited longer;
 * - `take`: `pick` if it fits the slot the finished try frees (CTE `freed`: dag_id, run_id, pool,
 *   pool_slots, queue, executor) and its task is not one of `excluded` — in the finished try's run,
 *   or in another run of its DAG as `cross` allows (see crossRun);
 * - `started`: `take` started as a new try, if it is still as read and its run still running;
 * - `cleared`: the XComs an earlier try of it pushed.
 */
export function handOverCtes(
  runner: RunnerIdentity,
  excluded: readonly string[],
  cross: CrossRun | null,
): RawBuilder<unknown> {
  const otherRun =
    cross === null
      ? sql`false`
      : sql`(p.task_id <> all(${cross.excluded}::text[])
          and exists (select 1 from dag_run r where r.dag_id = p.dag_id and r.run_id = p.run_id
            and r.dag_hash = ${cross.hash}::text)
          and (select count(*) from task_instance x where x.dag_id = p.dag_id and x.run_id = p.run_id)
            <= ${cross.maxTasks}::int)`;
  return sql`head as (
      select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.state, ti.try_number, ti.pool, ti.pool_slots,
        ti.priority_weight, ti.queue, ti.executor, ti.run_logical_date, 1 as waiting, 0 as pos
      from task_instance ti where ti.state = 'scheduled'
      order by ti.priority_weight desc, ti.run_logical_date, ti.scheduled_dttm, ti.map_index
      limit 1
      for update skip locked
    ), fresh as (
      -- Driven by the decisions (usually none or one): one key lookup each, never a run's scan.
      select t.dag_id, t.run_id, t.task_id, t.map_index, t.state, t.try_number, t.pool, t.pool_slots,
        t.priority_weight, t.queue, t.executor, t.run_logical_date, 0 as waiting, d.pos
      from dec d cross join lateral (
        select * from task_instance x
        where x.dag_id = (select dag_id from freed) and x.run_id = (select run_id from freed)
          and x.task_id = d.task_id and x.map_index = d.map_index
      ) t
      where d.to_state = 'scheduled' and t.state is not distinct from d.from_state
    ), pick as (
      select * from (select * from head union all select * from fresh) c
      order by c.priority_weight desc, c.run_logical_date, c.waiting desc, c.map_index, c.pos
      limit 1
    ), take as (
      select p.* from pick p join freed f on p.dag_id = f.dag_id
      where p.pool = f.pool and p.pool_slots <= f.pool_slots and p.queue = f.queue
        and p.executor is not distinct from f.executor
        and case when p.run_id = f.run_id then p.task_id <> all(${[...excluded]}::text[]) else ${otherRun} end
    ), started as (
      update task_instance t set ${runningSet(runner)}, try_number = t.try_number + 1,
        scheduled_dttm = coalesce(t.scheduled_dttm, now()), queued_dttm = now(), queued_by_job_id = null
      from take k
      where t.dag_id = k.dag_id and t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
        and t.try_number = k.try_number and t.state is not distinct from k.state
        -- A resumed deferral needs its next_method in the start: the scheduler queues it instead.
        and t.next_method is null
        and exists (select 1 from dag_run r where r.dag_id = t.dag_id and r.run_id = t.run_id and r.state = 'running')
      returning t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.max_tries, t.priority_weight, t.queue
    ), cleared as (
      delete from xcom x using started s
      where s.try_number > 1 and x.dag_id = s.dag_id and x.run_id = s.run_id and x.task_id = s.task_id
        and x.map_index = s.map_index
    )`;
}
