// Writing what a dependency evaluation decided (model/evaluate-run.ts), for the scheduler's
// evaluation of whole runs and the execution API's evaluation of a finished try's downstream
// tasks: every decision of a batch in ONE statement, each guarded by the state it was decided
// from (`state IS NOT DISTINCT FROM <read>`), so a decision made on a stale read changes nothing.
import { sql, type RawBuilder } from "kysely";
import { rowsSql, type Executor } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import type { Creation, Expansion, TiChange } from "../model/evaluate-run.js";
import { FINISHED_TI_STATES } from "../model/states.js";

/** The decisions of one run. */
export interface RunDecisions {
  dag_id: string;
  run_id: string;
  plan: DagPlan | undefined;
  changes: readonly TiChange[];
  expansions?: readonly Expansion[];
  creations?: readonly Creation[];
}

const CHANGE_COLUMNS = [
  ["dag_id", "text"],
  ["run_id", "text"],
  ["task_id", "text"],
  ["map_index", "int"],
  ["from_state", "text"],
  ["to_state", "text"],
] as const;

const FINISHED_SQL = sql.raw(FINISHED_TI_STATES.map((s) => `'${s}'`).join(","));

/**
 * The CTEs applying `runs`' decisions, and the select listing one row per applied decision
 * (`dag_id, run_id, state`) as `decided`; null when there is nothing to write. Only the parts a
 * batch needs are included: the planner's time is a large share of a small statement's. `guard`
 * (a condition on the decision `c`) must also hold for a change to apply.
 */
export function decisionCtes(
  runs: readonly RunDecisions[],
  guard: RawBuilder<unknown> = sql`true`,
): { ctes: RawBuilder<unknown>; decided: RawBuilder<unknown> } | null {
  const changes: Record<string, unknown>[] = [];
  const expansions: unknown[] = [];
  const creations: unknown[] = [];
  for (const { dag_id, run_id, plan, ...d } of runs) {
    const run = { dag_id, run_id };
    for (const c of d.changes)
      changes.push({
        ...run,
        task_id: c.task_id,
        map_index: c.map_index,
        from_state: c.from,
        to_state: c.to,
      });
    for (const e of d.expansions ?? [])
      expansions.push({ ...run, task_id: e.task_id, n: e.count, state: e.state });
    for (const c of d.creations ?? []) {
      const row = plan?.newTaskInstance(c.task_id);
      if (row !== undefined) creations.push({ ...run, ...row, state: c.state });
    }
  }
  if (changes.length + expansions.length + creations.length === 0) return null;
  const parts = [
    sql`c as (${rowsSql(changes, CHANGE_COLUMNS, "c")}), upd as (
      update task_instance t set
        state = c.to_state,
        wait_reason = null,
        -- Only an EmptyOperator is decided 'success' here; Airflow counts that as its first try.
        try_number = case when c.to_state = 'success' then t.try_number + 1 else t.try_number end,
        scheduled_dttm = case when c.to_state = 'scheduled' then now() else t.scheduled_dttm end,
        next_retry_at = case when c.to_state = 'scheduled' then null else t.next_retry_at end,
        start_date = case when c.to_state in (${FINISHED_SQL}) then coalesce(t.start_date, now()) else t.start_date end,
        end_date = case when c.to_state in (${FINISHED_SQL}) then now() else t.end_date end,
        duration = case when c.to_state in (${FINISHED_SQL})
          then coalesce(extract(epoch from (now() - t.start_date))::float8, 0) else t.duration end,
        updated_at = now()
      from c
      where t.dag_id = c.dag_id and t.run_id = c.run_id and t.task_id = c.task_id and t.map_index = c.map_index
        and t.state is not distinct from c.from_state and ${guard}
      returning t.dag_id, t.run_id, t.state
    )`,
  ];
  const decided = [sql`select dag_id, run_id, state from upd`];
  if (expansions.length > 0) {
    parts.push(sql`e as (
      select * from jsonb_to_recordset(${JSON.stringify(expansions)}::jsonb)
        as e(dag_id text, run_id text, task_id text, n int, state text)
    ), moved as (
      update task_instance t set map_index = 0, state = e.state, scheduled_dttm = now(), updated_at = now()
      from e
      where t.dag_id = e.dag_id and t.run_id = e.run_id and t.task_id = e.task_id
        and t.map_index = -1 and t.state is null
      returning t.*
    ), ins as (
      insert into task_instance (dag_id, run_id, task_id, map_index, state, max_tries, pool, pool_slots,
        priority_weight, queue, operator, executor, custom_operator_name, task_display_name, scheduled_dttm,
        run_logical_date)
      select m.dag_id, m.run_id, m.task_id, g.i, m.state, m.max_tries, m.pool, m.pool_slots,
        m.priority_weight, m.queue, m.operator, m.executor, m.custom_operator_name, m.task_display_name, now(),
        m.run_logical_date
      from moved m
      join e on e.dag_id = m.dag_id and e.run_id = m.run_id and e.task_id = m.task_id
      cross join lateral generate_series(1, e.n - 1) as g(i)
      on conflict do nothing
      returning 1
    )`);
    decided.push(sql`select dag_id, run_id, state from moved`);
  }
  if (creations.length > 0) {
    parts.push(sql`n as (
      select * from jsonb_to_recordset(${JSON.stringify(creations)}::jsonb)
        as n(dag_id text, run_id text, task_id text, state text, max_tries int, pool text, pool_slots int,
          priority_weight int, queue text, operator text, executor text)
    ), created as (
      insert into task_instance (dag_id, run_id, task_id, map_index, state, max_tries, pool, pool_slots,
        priority_weight, queue, operator, executor, scheduled_dttm, run_logical_date)
      select n.dag_id, n.run_id, n.task_id, -1, n.state, n.max_tries, n.pool, n.pool_slots,
        n.priority_weight, n.queue, n.operator, n.executor, case when n.state = 'scheduled' then now() end,
        r.logical_date
      from n join dag_run r on r.dag_id = n.dag_id and r.run_id = n.run_id
      on conflict do nothing
      returning dag_id, run_id, state
    )`);
    decided.push(sql`select dag_id, run_id, state from created`);
  }
  return { ctes: sql.join(parts, sql`, `), decided: sql.join(decided, sql` union all `) };
}

/** Writes `runs`' decisions in one statement; returns how many applied per run (`dag_id\0run_id`). */
export async function writeDecisions(
  db: Executor,
  runs: readonly RunDecisions[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const parts = decisionCtes(runs);
  if (parts === null) return out;
  const result = await sql<{ dag_id: string; run_id: string; applied: number }>`
    with ${parts.ctes}
    select x.dag_id, x.run_id, count(*)::int as applied
    from (${parts.decided}) as x
    group by x.dag_id, x.run_id`.execute(db);
  for (const r of result.rows) out.set(`${r.dag_id}\0${r.run_id}`, r.applied);
  return out;
}
