// The critical section every scheduler shares (as Airflow's): in ONE transaction, lock the pool
// rows, then read slot use and claim scheduled task instances (FOR UPDATE SKIP LOCKED) in a
// statement that starts after the lock is held, admit what fits, and set those queued with a new
// try. The backlog is read through its claim-order index (priority, the run's logical date, when it
// was scheduled, map index) and only as far as the batch needs: its cost does not grow with the
// number of scheduled task instances. Workloads are built and handed over only after the commit.
// With several executors (decision 0027) each keeps its own slots: the claim skips the task
// instances of executors that are full or not run here, and admission counts slots per executor.
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import type { TaskInstanceKey, Workload } from "../model/execution-api.js";
import { endTries, loadDag, taskWorkload, type TryEnd } from "../services/index.js";
import type { SchedulerContext } from "./context.js";
import { Admission, type Candidate } from "./admission.js";

interface PoolUse {
  pool: string;
  slots: number;
  used: number;
}

interface QueuedRow extends TaskInstanceKey {
  try_number: number;
  executor: string | null;
  priority_weight: number;
  queue: string;
}

/** How much one queuing pass may hand over. */
export interface QueueBudget {
  /** At most this many in all: core.parallelism minus what every executor holds. */
  total: number;
  /** Open slots per executor this scheduler runs, by name; the default executor first. */
  open: ReadonlyMap<string, number>;
  /** Every task instance goes to the default executor, whatever it names (`updraft dags test`). */
  takesAll?: boolean;
}

export interface QueueResult {
  workloads: Workload[];
  /** The executor of each workload (same order). */
  executors: string[];
  /** Task instances failed because their pool does not exist. */
  poolMissing: TaskInstanceKey[];
  /** More scheduled task instances may be waiting (the batch was full). */
  more: boolean;
  /** Per executor, task instances that could have been queued but for its open slots (or core.parallelism). */
  waiting: Map<string, number>;
  /** Per pool, scheduled task instances its open slots could not take (scheduler.tasks.starving). */
  starving: Map<string, number>;
}

/** Queues what `budget` allows; returns the workloads with their executors. */
export async function queueTaskInstances(ctx: SchedulerContext, budget: QueueBudget): Promise<QueueResult> {
  const out: QueueResult = {
    workloads: [],
    executors: [],
    poolMissing: [],
    more: false,
    waiting: new Map(),
    starving: new Map(),
  };
  const open = [...budget.open].filter(([, n]) => n > 0).map(([name]) => name);
  const maxToQueue = Math.min(
    budget.total,
    [...budget.open.values()].reduce((a, n) => a + Math.max(0, n), 0),
  );
  if (maxToQueue <= 0 || open.length === 0) return out;
  const defaultExecutor = [...budget.open.keys()][0]!;
  const takesAll = budget.takesAll === true;
  const queued = await ctx.db.transaction().execute(async (trx) => {
    const pools = await lockPools(trx);
    const claimLimit = Math.max(32, maxToQueue * 2);
    const admission = new Admission(ctx, trx, pools, new Map(budget.open), maxToQueue);
    const seen: string[] = [];
    // One round per executor at most: a round whose batch was full and ran an executor out of
    // slots claims again without that executor's task instances (nor those already seen), so that
    // a full executor's backlog never hides what the others could take now.
    for (let round = 0; round < budget.open.size; round++) {
      const openNow = admission.openExecutors();
      if (openNow.length === 0 || admission.full()) break;
      const cands = await claim(ctx, trx, pools, claimLimit, {
        open: openNow,
        defaultExecutor,
        takesAll,
        seen,
      });
      out.more = cands.length >= claimLimit;
      if (cands.length === 0) break;
      await ctx.hooks.afterClaim?.({ tis: cands.map(keyOf) });
      await admission.add(cands);
      if (!out.more || admission.openExecutors().length === openNow.length) break;
      seen.push(...cands.map((c) => c.claim_key));
    }
    out.poolMissing = admission.poolMissing.map(keyOf);
    out.starving = admission.starving;
    out.waiting = admission.waiting;
    await failMissingPool(trx, admission.poolMissing);
    return markQueued(ctx, trx, admission.admitted);
  });
  for (const { row, plan } of queued) {
    out.executors.push(takesAll ? defaultExecutor : (row.executor ?? defaultExecutor));
    out.workloads.push(
      taskWorkload(ctx.signer, plan, keyOf(row), row.try_number, {
        priorityWeight: row.priority_weight,
        queue: row.queue,
      }),
    );
  }
  return out;
}

/**
 * The lock every scheduler takes before counting slots, and the slot use read in a statement that
 * starts after it is held (so it is current). A lost commit of this transaction is harmless
 * (docs/decisions/0011-hot-path.md): no WAL flush wait.
 */
async function lockPools(trx: Db): Promise<Map<string, number>> {
  await sql`select pool, set_config('synchronous_commit', 'off', true) as sync
    from pool order by pool for update`.execute(trx);
  const res = await sql<PoolUse>`
    select p.pool, p.slots, coalesce(u.used, 0)::int as used
    from pool p left join (
      select pool, sum(pool_slots) as used from task_instance where state in ('queued', 'running') group by pool
    ) u on u.pool = p.pool`.execute(trx);
  return new Map(res.rows.map((p) => [p.pool, p.slots === -1 ? Infinity : p.slots - p.used]));
}

/**
 * Scheduled task instances in claim order, locked (SKIP LOCKED), skipping full pools and runs at
 * their max_active_tasks (a missing pool is kept, to be failed), with each run's active count.
 * The statement is a walk of the claim-order index that stops after `limit` rows: its cost does
 * not grow with the number of scheduled task instances. Its filters are plain comparisons with
 * lists computed first: a filter the planner cannot estimate (a subquery) made it expect to read
 * the whole backlog and sort it, whenever its statistics were stale — as they are in a database
 * that just grew. Only task instances of `executors.open` are claimed: a full executor's backlog
 * never takes the batch of another, and one naming an executor not run here stays scheduled.
 */
async function claim(
  ctx: SchedulerContext,
  trx: Db,
  poolOpen: ReadonlyMap<string, number>,
  limit: number,
  executors: { open: readonly string[]; defaultExecutor: string; takesAll: boolean; seen: readonly string[] },
): Promise<Candidate[]> {
  const full = [...poolOpen].filter(([, n]) => n <= 0).map(([pool]) => pool);
  const active = await sql<{ dag_id: string; run_id: string; key: string; n: number; blocked: boolean }>`
    select ra.dag_id, ra.run_id, json_build_array(ra.dag_id, ra.run_id)::text as key, ra.n,
      ra.n >= coalesce(d.max_active_tasks, ${ctx.config.core.max_active_tasks_per_dag}) as blocked
    from (
      select dag_id, run_id, count(*)::int as n from task_instance
      where state in ('queued', 'running') group by dag_id, run_id
    ) ra left join dag d on d.dag_id = ra.dag_id`.execute(trx);
  const blocked = active.rows.filter((r) => r.blocked).map((r) => r.key);
  const runActive = new Map(active.rows.map((r) => [`${r.dag_id}\0${r.run_id}`, r.n]));
  const executorOf = executors.takesAll
    ? sql`${executors.defaultExecutor}::text`
    : sql`coalesce(ti.executor, ${executors.defaultExecutor})`;
  const res = await sql<Omit<Candidate, "run_active"> & { run_state: string | null }>`
    select ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number, ti.pool, ti.pool_slots,
      ${executorOf} as executor,
      json_build_array(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)::text as claim_key,
      (select dr.state from dag_run dr where dr.dag_id = ti.dag_id and dr.run_id = ti.run_id) as run_state,
      (select s.dag_hash from serialized_dag s where s.dag_id = ti.dag_id) as dag_hash
    from task_instance ti
    where ti.state = 'scheduled'
      and ti.pool <> all(${full}::text[])
      and json_build_array(ti.dag_id, ti.run_id)::text <> all(${blocked}::text[])
      and ${executorOf} = any(${executors.open}::text[])
      and json_build_array(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)::text <> all(${executors.seen}::text[])
    order by ti.priority_weight desc, ti.run_logical_date, ti.scheduled_dttm, ti.map_index
    limit ${limit}
    for update of ti skip locked`.execute(trx);
  // A scheduled instance of a run that is not running (ended by hand) is not queued.
  return res.rows
    .filter((r) => r.run_state === "running")
    .map(({ run_state: _, ...r }) => ({ ...r, run_active: runActive.get(`${r.dag_id}\0${r.run_id}`) ?? 0 }));
}

/** scheduled → queued with a new try, recording this scheduler's job (its adopter takes them if it dies). */
async function markQueued(
  ctx: SchedulerContext,
  trx: Db,
  admitted: readonly Candidate[],
): Promise<{ row: QueuedRow; plan: DagPlan | undefined }[]> {
  if (admitted.length === 0) return [];
  const keys = JSON.stringify(admitted.map((c) => [c.dag_id, c.run_id, c.task_id, c.map_index]));
  const updated = await sql<QueuedRow>`
    update task_instance t set state = 'queued', try_number = t.try_number + 1, queued_dttm = now(),
      queued_by_job_id = ${ctx.jobId}, updated_at = now()
    from jsonb_array_elements(${keys}::jsonb) as k
    where t.dag_id = k->>0 and t.run_id = k->>1 and t.task_id = k->>2 and t.map_index = (k->>3)::int
      and t.state = 'scheduled'
    returning t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.priority_weight, t.queue,
      t.executor`.execute(trx);
  await ctx.hooks.beforeQueueCommit?.({
    tis: updated.rows.map((r) => ({ ...keyOf(r), try_number: r.try_number })),
  });
  const hashes = new Map(admitted.map((c) => [c.dag_id, c.dag_hash]));
  const plans = new Map<string, DagPlan | undefined>();
  for (const [dagId, hash] of hashes) plans.set(dagId, await loadDag(trx, dagId, hash));
  return updated.rows.map((row) => ({ row, plan: plans.get(row.dag_id) }));
}

function keyOf(c: TaskInstanceKey): TaskInstanceKey {
  return { dag_id: c.dag_id, run_id: c.run_id, task_id: c.task_id, map_index: c.map_index };
}

/**
 * A task instance whose pool does not exist fails at once with a try recorded in its history, so
 * the reason is visible where users look (Airflow would leave it scheduled forever).
 */
async function failMissingPool(trx: Db, missing: readonly Candidate[]): Promise<void> {
  const tries: TryEnd[] = missing.map((c) => ({
    ...keyOf(c),
    try_number: c.try_number,
    state: "failed",
    retryable: false,
    delay_s: 0,
    retry_as: "up_for_retry",
    new_try: true,
    error: `Pool "${c.pool}" does not exist. Create it (\`updraft pools set ${c.pool} <slots> <description>\`) or give the task an existing pool, then clear the task.`,
  }));
  await endTries(trx, tries, sql`t.state = 'scheduled'`);
}
