// Dependency evaluation for running DAG runs, in one transaction per batch of runs: lock the
// runs (FOR UPDATE SKIP LOCKED, so two schedulers never evaluate the same run at once), read
// every task instance of each in one statement, decide in memory (evaluate-run.ts), write all
// decisions of the batch in one guarded statement, and finish the runs that are over.
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { TaskInstanceState } from "../model/states.js";
import { runKey, type SchedulerContext } from "./context.js";
import { loadPlan, type DagPlan, type ExpandSource } from "./dag-plan.js";
import { buildWorkloads, claimAndQueue, type QueueResult } from "./queue-task-instances.js";
import {
  evaluateRun,
  lengthKey,
  type RunEvaluation,
  type TiSnapshot,
  type XcomLengths,
} from "./evaluate-run.js";

export interface RunRef {
  dagId: string;
  runId: string;
}

export interface FinishedRun extends RunRef {
  state: "success" | "failed";
  plan: DagPlan | undefined;
  /** The run's last finished task instance (DAG callbacks run in its name). */
  lastTi: { task_id: string; map_index: number; try_number: number } | null;
}

export interface ScheduleResult {
  /** Task instances that became scheduled (or were created scheduled by an expansion). */
  scheduled: number;
  finished: FinishedRun[];
  /** Runs asked for that another scheduler held locked: try again shortly. */
  busy: RunRef[];
  evaluated: number;
  /** With `queueBudget`: what the last batch's transaction queued (workloads built after its commit). */
  queued?: QueueResult;
}

/** [task_id, map_index, state, retry_due, try_number, end_date] */
type TiTuple = [string, number, TaskInstanceState | null, boolean | null, number, string | null];

interface RunRow {
  dag_id: string;
  run_id: string;
  run_hash: string | null;
  dag_hash: string | null;
  tis: TiTuple[];
}

/**
 * Evaluates the given running runs, or (with `runs` undefined) every running run, `batchSize`
 * runs per transaction.
 */
export async function scheduleRuns(
  ctx: SchedulerContext,
  runs: readonly RunRef[] | undefined,
  batchSize = 50,
  queueBudget?: number,
): Promise<ScheduleResult> {
  const total: ScheduleResult = { scheduled: 0, finished: [], busy: [], evaluated: 0 };
  if (runs !== undefined) {
    for (let i = 0; i < runs.length; i += batchSize) {
      // The event path: the last batch also queues, in the same transaction (one commit for both).
      const last = i + batchSize >= runs.length;
      await scheduleBatch(ctx, { runs: runs.slice(i, i + batchSize) }, total, last ? queueBudget : undefined);
    }
    return total;
  }
  let afterId = 0;
  for (;;) {
    const last = await scheduleBatch(ctx, { afterId, limit: batchSize }, total);
    if (last === null) return total;
    afterId = last;
  }
}

type Target = { runs: readonly RunRef[] } | { afterId: number; limit: number };

/** Returns the last run id seen (for paging through all runs), or null when there were none. */
async function scheduleBatch(
  ctx: SchedulerContext,
  target: Target,
  total: ScheduleResult,
  queueBudget?: number,
): Promise<number | null> {
  let queued: Awaited<ReturnType<typeof claimAndQueue>> = [];
  const out: QueueResult = { workloads: [], poolMissing: [], more: false };
  const last = await ctx.db.transaction().execute(async (trx) => {
    const result = await evaluateBatch(ctx, trx, target, total);
    if (queueBudget !== undefined) queued = await claimAndQueue(ctx, trx, queueBudget, out);
    return result;
  });
  if (queueBudget !== undefined) total.queued = buildWorkloads(ctx, queued, out);
  return last;
}

async function evaluateBatch(
  ctx: SchedulerContext,
  trx: Db,
  target: Target,
  total: ScheduleResult,
): Promise<number | null> {
  {
    const rows = await readRuns(trx, target);
    if ("runs" in target && rows.length < target.runs.length) {
      const seen = new Set(rows.map((r) => runKey(r.dag_id, r.run_id)));
      const missing = target.runs.filter((r) => !seen.has(runKey(r.dagId, r.runId)));
      total.busy.push(...(await stillRunning(trx, missing)));
    }
    if (rows.length === 0) return null;
    await ctx.hooks.afterRunsRead?.({ runs: rows.map((r) => ({ dagId: r.dag_id, runId: r.run_id })) });

    const evaluations: { row: RunRow; plan: DagPlan | undefined; ev: RunEvaluation }[] = [];
    for (const row of rows) {
      const plan = row.dag_hash === null ? undefined : await loadPlan(trx, row.dag_id, row.dag_hash);
      if (plan === undefined) continue; // The DAG is gone: leave the run to be cleaned up by hand.
      const tis: TiSnapshot[] = row.tis.map(([task_id, map_index, state, due]) => ({
        task_id,
        map_index,
        state,
        retry_due: due === true,
      }));
      let ev = evaluateRun(plan, tis);
      if (ev.needLengths.length > 0) {
        ev = evaluateRun(plan, tis, await xcomLengths(trx, row.dag_id, row.run_id, ev.needLengths));
      }
      evaluations.push({ row, plan, ev });
    }
    total.evaluated += evaluations.length;

    const applied = await writeDecisions(trx, evaluations);
    const ending: { dag_id: string; run_id: string; state: string }[] = [];
    for (const { row, ev } of evaluations) {
      const expected = ev.changes.length + ev.expansions.length + ev.creations.length;
      if ((applied.get(runKey(row.dag_id, row.run_id)) ?? 0) !== expected) continue;
      total.scheduled += ev.scheduled;
      if (ev.outcome !== "running")
        ending.push({ dag_id: row.dag_id, run_id: row.run_id, state: ev.outcome });
      if (ev.deadlock) {
        ctx.logger.warn(
          { dag_id: row.dag_id, run_id: row.run_id },
          "Deadlock: no task instance of the run can run any more; marking the run failed",
        );
      }
    }
    if (ending.length > 0) {
      const done = await sql<{ dag_id: string; run_id: string; state: "success" | "failed" }>`
        update dag_run d set state = u.state, end_date = now(), updated_at = now()
        from jsonb_to_recordset(${JSON.stringify(ending)}::jsonb) as u(dag_id text, run_id text, state text)
        where d.dag_id = u.dag_id and d.run_id = u.run_id and d.state = 'running'
        returning d.dag_id, d.run_id, d.state,
          set_config('synchronous_commit', 'on', true) as sync -- a run's end (and its callbacks) is durable`.execute(
        trx,
      );
      for (const r of done.rows) {
        const e = evaluations.find((x) => x.row.dag_id === r.dag_id && x.row.run_id === r.run_id);
        total.finished.push({
          dagId: r.dag_id,
          runId: r.run_id,
          state: r.state,
          plan: e?.plan,
          lastTi: e === undefined ? null : lastFinished(e.row.tis),
        });
      }
    }
    const rehash = evaluations.filter((e) => e.plan !== undefined && e.row.run_hash !== e.plan.hash);
    if (rehash.length > 0) {
      const pairs = rehash.map((e) => ({ dag_id: e.row.dag_id, run_id: e.row.run_id, hash: e.plan?.hash }));
      await sql`
        update dag_run d set dag_hash = u.hash
        from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as u(dag_id text, run_id text, hash text)
        where d.dag_id = u.dag_id and d.run_id = u.run_id`.execute(trx);
    }
    return "afterId" in target ? Math.max(...rows.map((r) => (r as RunRow & { id: number }).id)) : 0;
  }
}

async function readRuns(db: Db, target: Target): Promise<(RunRow & { id: number })[]> {
  const filter =
    "runs" in target
      ? sql`(dr.dag_id, dr.run_id) in (select x->>0, x->>1 from jsonb_array_elements(${JSON.stringify(
          target.runs.map((r) => [r.dagId, r.runId]),
        )}::jsonb) as x)`
      : sql`dr.id > ${target.afterId}`;
  const limit = "runs" in target ? target.runs.length : target.limit;
  const result = await sql<RunRow & { id: number }>`
    with target as (
      select dr.id, dr.dag_id, dr.run_id, dr.dag_hash from dag_run dr
      where dr.state = 'running' and ${filter}
      order by dr.id limit ${limit}
      for update skip locked
    )
    select t.id, t.dag_id, t.run_id, t.dag_hash as run_hash,
      -- Losing this transaction's commit in a database crash is harmless (decision 0011).
      set_config('synchronous_commit', 'off', true) as sync,
      (select s.dag_hash from serialized_dag s where s.dag_id = t.dag_id) as dag_hash,
      (select coalesce(json_agg(json_build_array(ti.task_id, ti.map_index, ti.state,
          ti.next_retry_at <= now(), ti.try_number, ti.end_date)), '[]'::json)
        from task_instance ti where ti.dag_id = t.dag_id and ti.run_id = t.run_id) as tis
    from target t order by t.id`.execute(db);
  return result.rows;
}

async function stillRunning(db: Db, runs: readonly RunRef[]): Promise<RunRef[]> {
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
async function xcomLengths(
  db: Db,
  dagId: string,
  runId: string,
  sources: readonly ExpandSource[],
): Promise<XcomLengths> {
  const wanted = JSON.stringify(sources.map((s) => [s.taskId, s.key]));
  const result = await sql<{ task_id: string; key: string; map_index: number; len: number | null }>`
    select x.task_id, x.key, x.map_index,
      case jsonb_typeof(x.value)
        when 'array' then jsonb_array_length(x.value)
        when 'object' then (select count(*)::int from jsonb_object_keys(x.value))
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

const FINISHED_SQL = `'success','failed','skipped','upstream_failed','removed'`;

/** Writes every decision of a batch in ONE statement; returns how many rows changed per run. */
async function writeDecisions(
  db: Db,
  evaluations: readonly { row: RunRow; plan: DagPlan | undefined; ev: RunEvaluation }[],
): Promise<Map<string, number>> {
  const changes: unknown[] = [];
  const expansions: unknown[] = [];
  const creations: unknown[] = [];
  for (const { row, plan, ev } of evaluations) {
    const run = { dag_id: row.dag_id, run_id: row.run_id };
    for (const c of ev.changes)
      changes.push({
        ...run,
        task_id: c.task_id,
        map_index: c.map_index,
        from_state: c.from,
        to_state: c.to,
      });
    for (const e of ev.expansions)
      expansions.push({ ...run, task_id: e.task_id, n: e.count, state: e.state });
    for (const c of ev.creations) {
      const tp = plan?.tasks.get(c.task_id);
      if (tp === undefined) continue;
      const t = tp.task;
      creations.push({
        ...run,
        task_id: c.task_id,
        state: c.state,
        max_tries: t.retries + 1,
        pool: t.pool,
        pool_slots: t.pool_slots,
        priority_weight: tp.weight,
        queue: t.queue,
        operator: t.operator,
      });
    }
  }
  const out = new Map<string, number>();
  if (changes.length + expansions.length + creations.length === 0) return out;
  const finished = sql.raw(FINISHED_SQL);
  // Only the parts a batch needs: the planner's time is a large share of a small statement's.
  const parts = [
    sql`c as (
      select * from jsonb_to_recordset(${JSON.stringify(changes)}::jsonb)
        as c(dag_id text, run_id text, task_id text, map_index int, from_state text, to_state text)
    ), upd as (
      update task_instance t set
        state = c.to_state,
        scheduled_dttm = case when c.to_state = 'scheduled' then now() else t.scheduled_dttm end,
        next_retry_at = case when c.to_state = 'scheduled' then null else t.next_retry_at end,
        start_date = case when c.to_state in (${finished}) then coalesce(t.start_date, now()) else t.start_date end,
        end_date = case when c.to_state in (${finished}) then now() else t.end_date end,
        duration = case when c.to_state in (${finished})
          then coalesce(extract(epoch from (now() - t.start_date))::float8, 0) else t.duration end,
        updated_at = now()
      from c
      where t.dag_id = c.dag_id and t.run_id = c.run_id and t.task_id = c.task_id and t.map_index = c.map_index
        and t.state is not distinct from c.from_state
      returning t.dag_id, t.run_id
    )`,
  ];
  const counted = [sql`select dag_id, run_id from upd`];
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
        priority_weight, queue, operator, executor, custom_operator_name, task_display_name, scheduled_dttm)
      select m.dag_id, m.run_id, m.task_id, g.i, m.state, m.max_tries, m.pool, m.pool_slots,
        m.priority_weight, m.queue, m.operator, m.executor, m.custom_operator_name, m.task_display_name, now()
      from moved m
      join e on e.dag_id = m.dag_id and e.run_id = m.run_id and e.task_id = m.task_id
      cross join lateral generate_series(1, e.n - 1) as g(i)
      on conflict do nothing
      returning 1
    )`);
    counted.push(sql`select dag_id, run_id from moved`);
  }
  if (creations.length > 0) {
    parts.push(sql`n as (
      select * from jsonb_to_recordset(${JSON.stringify(creations)}::jsonb)
        as n(dag_id text, run_id text, task_id text, state text, max_tries int, pool text, pool_slots int,
          priority_weight int, queue text, operator text)
    ), created as (
      insert into task_instance (dag_id, run_id, task_id, map_index, state, max_tries, pool, pool_slots,
        priority_weight, queue, operator, scheduled_dttm)
      select n.dag_id, n.run_id, n.task_id, -1, n.state, n.max_tries, n.pool, n.pool_slots,
        n.priority_weight, n.queue, n.operator, case when n.state = 'scheduled' then now() end
      from n
      on conflict do nothing
      returning dag_id, run_id
    )`);
    counted.push(sql`select dag_id, run_id from created`);
  }
  const result = await sql<{ dag_id: string; run_id: string; applied: number }>`
    with ${sql.join(parts, sql`, `)}
    select x.dag_id, x.run_id, count(*)::int as applied
    from (${sql.join(counted, sql` union all `)}) as x
    group by x.dag_id, x.run_id`.execute(db);
  for (const r of result.rows) out.set(runKey(r.dag_id, r.run_id), r.applied);
  return out;
}

function lastFinished(tis: readonly TiTuple[]): FinishedRun["lastTi"] {
  let best: TiTuple | undefined;
  for (const t of tis) {
    if (t[5] === null) continue;
    if (best === undefined || (best[5] ?? "") < t[5]) best = t;
  }
  best ??= tis[0];
  return best === undefined ? null : { task_id: best[0], map_index: best[1], try_number: best[4] };
}
