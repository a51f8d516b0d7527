// What dependency evaluation reads (schedule-runs.ts): the runs to evaluate, locked so that two
// schedulers never evaluate the same run at once, with their task instances (all of them, or a
// scoped read's), which runs are still running, and the lengths mapped tasks expand over.
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { DagPlan, ExpandSource } from "../model/dag-plan.js";
import { lengthKey, type XcomLengths } from "../model/evaluate-run.js";
import type { TaskInstanceState } from "../model/states.js";
import { peekDag } from "../services/index.js";

export interface RunRef {
  dagId: string;
  runId: string;
  /**
   * Only these tasks need deciding (a finished try's downstream tasks that wait on others too):
   * their instances and their upstreams' are read, not the whole run. Undefined: the whole run.
   */
  tasks?: readonly string[];
}

/** [task_id, map_index, state, retry_due, try_number, end_date] */
export type TiTuple = [string, number, TaskInstanceState | null, boolean | null, number, string | null];

export interface RunRow {
  id: number;
  dag_id: string;
  run_id: string;
  run_hash: string | null;
  dag_hash: string | null;
  /** The instances read: all of the run's, or those of `scope` (and what their rules read). */
  tis: TiTuple[];
  /** The tasks to decide, when not the whole run. */
  scope: string[] | null;
  /** The tasks whose instances were read for `scope`. */
  read_ids: string[] | null;
}

export type Target = { runs: readonly RunRef[] } | { afterId: number; limit: number };

export async function readRuns(db: Db, target: Target): Promise<RunRow[]> {
  const filter =
    "runs" in target
      ? sql`(dr.dag_id, dr.run_id) in (select x->>0, x->>1 from jsonb_array_elements(${JSON.stringify(
          target.runs.map((r) => [r.dagId, r.runId]),
        )}::jsonb) as x)`
      : sql`dr.id > ${target.afterId}`;
  const limit = "runs" in target ? target.runs.length : target.limit;
  // What a scoped run's rules read: the tasks to decide, their upstreams and relevant setups.
  const scopes = JSON.stringify(
    "runs" in target
      ? target.runs.filter((r) => r.tasks !== undefined).map((r) => [r.dagId, r.runId, r.tasks, readScope(r)])
      : [],
  );
  const result = await sql<RunRow>`
    with target as (
      select dr.id, dr.dag_id, dr.run_id, dr.dag_hash from dag_run dr
      where dr.state = 'running' and ${filter}
      order by dr.id limit ${limit}
      for no key update skip locked
    ), scope as (
      select x->>0 as dag_id, x->>1 as run_id, x->2 as decide, array(select jsonb_array_elements_text(x->3)) as task_ids
      from jsonb_array_elements(${scopes}::jsonb) as x
    )
    select t.id, t.dag_id, t.run_id, t.dag_hash as run_hash,
      -- Losing this transaction's commit in a database crash is harmless (decision 0011).
      set_config('synchronous_commit', 'off', true) as sync,
      (select s.dag_hash from serialized_dag s where s.dag_id = t.dag_id) as dag_hash,
      sc.decide as scope, sc.task_ids as read_ids,
      (select coalesce(json_agg(json_build_array(ti.task_id, ti.map_index, ti.state,
          ti.next_retry_at <= now(), ti.try_number, ti.end_date)), '[]'::json)
        from task_instance ti where ti.dag_id = t.dag_id and ti.run_id = t.run_id
          and (sc.task_ids is null or ti.task_id = any(sc.task_ids))) as tis
    from target t left join scope sc on sc.dag_id = t.dag_id and sc.run_id = t.run_id
    order by t.id`.execute(db);
  return result.rows;
}

/**
 * The task ids a scoped evaluation reads, from the DAG as last seen: if the run's DAG turns out
 * different, evaluate() sees the read was not enough and evaluates the whole run.
 */
function readScope(r: RunRef): string[] {
  const plan = peekDag(r.dagId);
  return plan === undefined ? [...(r.tasks ?? [])] : scopeOf(plan, r.tasks ?? []);
}

/** Tasks to decide, their upstreams and their relevant setups: what their rules read. */
export function scopeOf(plan: DagPlan, tasks: readonly string[]): string[] {
  const ids = new Set<string>(tasks);
  for (const id of tasks) {
    const tp = plan.tasks.get(id);
    for (const u of tp?.upstream ?? []) ids.add(u);
    for (const u of tp?.indirectSetups ?? []) ids.add(u);
  }
  return [...ids];
}

export async function stillRunning(db: Db, runs: readonly RunRef[]): Promise<RunRef[]> {
  if (runs.length === 0) return [];
  const pairs = JSON.stringify(runs.map((r) => [r.dagId, r.runId]));
  const result = await sql<{ dag_id: string; run_id: string }>`
    select dag_id, run_id from dag_run where state = 'running'
      and (dag_id, run_id) in (select x->>0, x->>1 from jsonb_array_elements(${pairs}::jsonb) as x)`.execute(
    db,
  );
  return result.rows.map((r) => ({ dagId: r.dag_id, runId: r.run_id }));
}

/** Lengths of the lists that mapped tasks expand over, read in SQL (the values stay in the database). */
export async function xcomLengths(
  db: Db,
  dagId: string,
  runId: string,
  sources: readonly ExpandSource[],
): Promise<XcomLengths> {
  const wanted = JSON.stringify(sources.map((s) => [s.taskId, s.key]));
  const result = await sql<{ task_id: string; key: string; map_index: number; len: number | null }>`
    select x.task_id, x.key, x.map_index,
      case json_typeof(x.value)
        when 'array' then json_array_length(x.value)
        when 'object' then (select count(*)::int from json_object_keys(x.value))
        else null end as len
    from xcom x
    where x.dag_id = ${dagId} and x.run_id = ${runId}
      and (x.task_id, x.key) in (select w->>0, w->>1 from jsonb_array_elements(${wanted}::jsonb) as w)`.execute(
    db,
  );
  const out = new Map<string, number | null>();
  for (const s of sources) {
    const rows = result.rows.filter((r) => r.task_id === s.taskId && r.key === s.key);
    if (s.producerMapped) out.set(lengthKey(s.taskId, s.key), rows.filter((r) => r.map_index >= 0).length);
    else out.set(lengthKey(s.taskId, s.key), rows.find((r) => r.map_index === -1)?.len ?? null);
  }
  return out;
}
