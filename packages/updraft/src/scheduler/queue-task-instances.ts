// The critical section every scheduler shares (as Airflow's): in ONE transaction, lock the pool
// rows, then read slot use and claim scheduled task instances (FOR UPDATE SKIP LOCKED) in a
// statement that starts after the lock is held, admit what fits, and set those queued with a new
// try. Workloads are built and handed to the executor only after the commit.
import { sql } from "kysely";
import type { TaskInstanceKey, Workload } from "../model/execution-api.js";
import type { SchedulerContext } from "./context.js";
import { loadPlan, type DagPlan } from "./dag-plan.js";
import { taskWorkload } from "./workloads.js";

interface Candidate {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queue: string;
  dag_hash: string | null;
  run_active: number;
  task_active: number;
}

interface PoolUse {
  pool: string;
  slots: number;
  used: number;
}

export interface QueueResult {
  workloads: Workload[];
  /** Task instances failed because their pool does not exist. */
  poolMissing: TaskInstanceKey[];
  /** More scheduled task instances may be waiting (the batch was full). */
  more: boolean;
}

/** Queues at most `maxToQueue` task instances; returns the workloads handed to the executor. */
export async function queueTaskInstances(ctx: SchedulerContext, maxToQueue: number): Promise<QueueResult> {
  const out: QueueResult = { workloads: [], poolMissing: [], more: false };
  if (maxToQueue <= 0) return out;
  const queued = await ctx.db.transaction().execute((trx) => claimAndQueue(ctx, trx, maxToQueue, out));
  return buildWorkloads(ctx, queued, out);
}

type Queued = { r: QueuedRow; plan: DagPlan | undefined }[];

interface QueuedRow {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  priority_weight: number;
  queue: string;
}

/** Turns what a committed queuing transaction set queued into workloads (after the commit only). */
export function buildWorkloads(ctx: SchedulerContext, queued: Queued, out: QueueResult): QueueResult {
  for (const { r, plan } of queued) {
    out.workloads.push(
      taskWorkload(ctx, plan, keyOf(r), r.try_number, { priorityWeight: r.priority_weight, queue: r.queue }),
    );
  }
  return out;
}

/**
 * The critical section inside the caller's transaction `trx`: lock the pools, claim, admit, set
 * queued. The caller commits, then calls {@link buildWorkloads}. Used alone (queueTaskInstances)
 * and at the end of an event-driven evaluation's transaction (one commit for both).
 */
export async function claimAndQueue(
  ctx: SchedulerContext,
  trx: SchedulerContext["db"],
  maxToQueue: number,
  out: QueueResult,
): Promise<Queued> {
  if (maxToQueue <= 0) return [];
  const defaultMaxTasks = ctx.config.core.max_active_tasks_per_dag;
  const claimLimit = Math.max(32, maxToQueue * 2);
  {
    // The lock every scheduler takes before counting slots: slot use read below is current.
    // A lost commit of this transaction is harmless (docs/decisions/0011-hot-path.md): no WAL flush wait.
    const pools = await sql<{ pool: string; slots: number }>`
      select pool, slots, set_config('synchronous_commit', 'off', true) as sync
      from pool order by pool for update`.execute(trx);
    const res = await sql<{ pools: PoolUse[] | null; cands: Candidate[] | null }>`
      with used as (
        select pool, sum(pool_slots)::int as used from task_instance
        where state in ('queued', 'running') group by pool
      ), pools as (
        select p.pool, p.slots, coalesce(u.used, 0) as used from pool p left join used u on u.pool = p.pool
      ), run_active as (
        select dag_id, run_id, count(*)::int as n from task_instance
        where state in ('queued', 'running') group by dag_id, run_id
      ), cand as (
        select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.pool, ti.pool_slots, ti.priority_weight,
          ti.queue, coalesce(ra.n, 0) as run_active
        from task_instance ti
        join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id
        join dag d on d.dag_id = ti.dag_id
        left join pools p on p.pool = ti.pool
        left join run_active ra on ra.dag_id = ti.dag_id and ra.run_id = ti.run_id
        where ti.state = 'scheduled' and dr.state = 'running'
          and (p.pool is null or p.slots = -1 or p.slots - p.used >= ti.pool_slots)
          and coalesce(ra.n, 0) < coalesce(d.max_active_tasks, ${defaultMaxTasks})
        order by ti.priority_weight desc, dr.logical_date nulls last, ti.scheduled_dttm, ti.map_index
        limit ${claimLimit}
        for update of ti skip locked
      ), task_active as (
        select t.dag_id, t.task_id, count(*)::int as n from task_instance t
        where t.state in ('queued', 'running')
          and (t.dag_id, t.task_id) in (select dag_id, task_id from cand)
        group by t.dag_id, t.task_id
      )
      select (select json_agg(pools) from pools) as pools,
        (select json_agg(json_build_object(
            'dag_id', c.dag_id, 'run_id', c.run_id, 'task_id', c.task_id, 'map_index', c.map_index,
            'pool', c.pool, 'pool_slots', c.pool_slots, 'priority_weight', c.priority_weight, 'queue', c.queue,
            'run_active', c.run_active, 'task_active', coalesce(ta.n, 0),
            'dag_hash', (select s.dag_hash from serialized_dag s where s.dag_id = c.dag_id))
          order by c.priority_weight desc)
          from cand c left join task_active ta on ta.dag_id = c.dag_id and ta.task_id = c.task_id) as cands`.execute(
      trx,
    );
    void pools;
    const row = res.rows[0];
    const cands = row?.cands ?? [];
    out.more = cands.length >= claimLimit;
    if (cands.length === 0) return [];
    await ctx.hooks.afterClaim?.({ tis: cands.map(keyOf) });

    const poolOpen = new Map<string, number>();
    for (const p of row?.pools ?? []) poolOpen.set(p.pool, p.slots === -1 ? Infinity : p.slots - p.used);
    const runActive = new Map<string, number>();
    const taskActive = new Map<string, number>();
    const admitted: Candidate[] = [];
    let budget = maxToQueue;
    for (const c of cands) {
      const open = poolOpen.get(c.pool);
      if (open === undefined) {
        out.poolMissing.push(keyOf(c));
        continue;
      }
      if (budget <= 0) break;
      const plan = await loadPlan(trx, c.dag_id, c.dag_hash);
      const runK = `${c.dag_id}\0${c.run_id}`;
      const taskK = `${c.dag_id}\0${c.task_id}`;
      const ra = runActive.get(runK) ?? c.run_active;
      const ta = taskActive.get(taskK) ?? c.task_active;
      const maxTasks = plan?.dag.max_active_tasks ?? defaultMaxTasks;
      const maxTis = plan?.tasks.get(c.task_id)?.task.max_active_tis_per_dag ?? null;
      if (open < c.pool_slots || ra >= maxTasks || (maxTis !== null && ta >= maxTis)) continue;
      poolOpen.set(c.pool, open - c.pool_slots);
      runActive.set(runK, ra + 1);
      taskActive.set(taskK, ta + 1);
      admitted.push(c);
      budget--;
    }

    if (out.poolMissing.length > 0) await failMissingPool(trx, out.poolMissing, cands);
    if (admitted.length === 0) return [];
    const keys = JSON.stringify(admitted.map((c) => [c.dag_id, c.run_id, c.task_id, c.map_index]));
    const updated = await sql<QueuedRow>`
      update task_instance t set state = 'queued', try_number = t.try_number + 1, queued_dttm = now(),
        external_executor_id = ${ctx.jobId === null ? null : `scheduler_job:${ctx.jobId}`}, updated_at = now()
      from jsonb_array_elements(${keys}::jsonb) as k
      where t.dag_id = k->>0 and t.run_id = k->>1 and t.task_id = k->>2 and t.map_index = (k->>3)::int
        and t.state = 'scheduled'
      returning t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.priority_weight, t.queue`.execute(
      trx,
    );
    await ctx.hooks.beforeQueueCommit?.({
      tis: updated.rows.map((r) => ({ ...keyOf(r), try_number: r.try_number })),
    });
    const hashes = new Map(admitted.map((c) => [c.dag_id, c.dag_hash]));
    const plans = new Map<string, DagPlan | undefined>();
    for (const [dagId, hash] of hashes) plans.set(dagId, await loadPlan(trx, dagId, hash));
    return updated.rows.map((r) => ({ r, plan: plans.get(r.dag_id) }));
  }
}

function keyOf(c: { dag_id: string; run_id: string; task_id: string; map_index: number }): TaskInstanceKey {
  return { dag_id: c.dag_id, run_id: c.run_id, task_id: c.task_id, map_index: c.map_index };
}

/**
 * A task instance whose pool does not exist fails at once with a try recorded in its history, so
 * the reason is visible where users look (Airflow would leave it scheduled forever).
 */
async function failMissingPool(
  db: SchedulerContext["db"],
  keys: readonly TaskInstanceKey[],
  cands: readonly Candidate[],
): Promise<void> {
  const rows = keys.map((k) => {
    const pool = cands.find((c) => c.dag_id === k.dag_id && c.task_id === k.task_id)?.pool ?? "";
    return {
      ...k,
      error: `Pool "${pool}" does not exist. Create it (\`updraft pools set ${pool} <slots> <description>\`) or give the task an existing pool, then clear the task.`,
    };
  });
  await sql`
    with k as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as k(dag_id text, run_id text, task_id text, map_index int, error text)
    ), upd as (
      update task_instance t set state = 'failed', try_number = t.try_number + 1, start_date = now(),
        end_date = now(), duration = 0, updated_at = now()
      from k
      where t.dag_id = k.dag_id and t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
        and t.state = 'scheduled'
      returning t.*, k.error
    )
    insert into task_instance_history (task_instance_id, dag_id, run_id, task_id, map_index, try_number, state,
      start_date, end_date, duration, pool, queue, operator, max_tries, error)
    select id, dag_id, run_id, task_id, map_index, try_number, state, start_date, end_date, duration, pool,
      queue, operator, max_tries, error
    from upd
    on conflict (dag_id, run_id, task_id, map_index, try_number) do nothing`.execute(db);
}
