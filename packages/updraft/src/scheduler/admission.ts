// Admission of claimed task instances, in claim order, inside the queuing transaction
// (queue-task-instances.ts): pool slots, the run's max_active_tasks, the task's
// max_active_tis_per_dag (across runs) and max_active_tis_per_dagrun (in its run), then its
// executor's open slots and the pass's total — Airflow's scheduler_job_runner.py
// _executable_task_instances_to_queued. One Admission may take several claimed batches (one per
// executor at most): what it admitted counts against every limit of the later ones.
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import { loadDag } from "../services/index.js";
import type { SchedulerContext } from "./context.js";

export interface Candidate {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  pool: string;
  pool_slots: number;
  dag_hash: string | null;
  /** Queued and running instances of its run when claimed (before this transaction's admissions). */
  run_active: number;
  /** The executor it goes to (its task's `executor` option, or the default). */
  executor: string;
  /** json_build_array(dag_id, run_id, task_id, map_index)::text, for the claim's `seen` filter. */
  claim_key: string;
}

export class Admission {
  readonly admitted: Candidate[] = [];
  /** Task instances whose pool does not exist (failed by the caller). */
  readonly poolMissing: Candidate[] = [];
  /** Per executor: candidates that fit every limit but its open slots (or the pass's total). */
  readonly waiting = new Map<string, number>();
  /** Per pool: candidates its open slots could not take (Airflow's starving tasks). */
  readonly starving: Map<string, number>;
  private readonly runAdds = new Map<string, number>();
  private readonly taskAdds = new Map<string, number>();
  private readonly runTaskAdds = new Map<string, number>();

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly trx: Db,
    /** Open slots per pool (decremented as instances are admitted). */
    private readonly poolOpen: Map<string, number>,
    /** Open slots per executor (decremented likewise). */
    private readonly slots: Map<string, number>,
    private readonly maxToQueue: number,
  ) {
    this.starving = new Map([...poolOpen.keys()].map((p) => [p, 0]));
  }

  /** The executors that still have open slots. */
  openExecutors(): string[] {
    return [...this.slots].filter(([, n]) => n > 0).map(([name]) => name);
  }

  /** The pass's total is reached. */
  full(): boolean {
    return this.admitted.length >= this.maxToQueue;
  }

  /** Admits what fits of `cands` (claim order). */
  async add(cands: readonly Candidate[]): Promise<void> {
    const { ctx, trx } = this;
    const { taskActive, runTaskActive } = await limitedTaskActive(trx, cands);
    for (const c of cands) {
      const open = this.poolOpen.get(c.pool);
      if (open === undefined) {
        this.poolMissing.push(c);
        continue;
      }
      const plan = await loadDag(trx, c.dag_id, c.dag_hash);
      const runK = `${c.dag_id}\0${c.run_id}`;
      const taskK = `${c.dag_id}\0${c.task_id}`;
      const runTaskK = `${runK}\0${c.task_id}`;
      const ra = c.run_active + (this.runAdds.get(runK) ?? 0);
      const ta = (taskActive.get(taskK) ?? 0) + (this.taskAdds.get(taskK) ?? 0);
      const rta = (runTaskActive.get(runTaskK) ?? 0) + (this.runTaskAdds.get(runTaskK) ?? 0);
      const maxTasks = plan?.dag.max_active_tasks ?? ctx.config.core.max_active_tasks_per_dag;
      const maxTis = plan?.task(c.task_id)?.max_active_tis_per_dag ?? null;
      const maxRunTis = plan?.task(c.task_id)?.max_active_tis_per_dagrun ?? null;
      if (open < c.pool_slots) {
        this.starving.set(c.pool, (this.starving.get(c.pool) ?? 0) + 1);
        continue;
      }
      if (ra >= maxTasks || (maxTis !== null && ta >= maxTis) || (maxRunTis !== null && rta >= maxRunTis))
        continue;
      const executorOpen = this.slots.get(c.executor) ?? 0;
      if (this.full() || executorOpen <= 0) {
        this.waiting.set(c.executor, (this.waiting.get(c.executor) ?? 0) + 1);
        continue;
      }
      this.slots.set(c.executor, executorOpen - 1);
      this.poolOpen.set(c.pool, open - c.pool_slots);
      this.runAdds.set(runK, (this.runAdds.get(runK) ?? 0) + 1);
      this.taskAdds.set(taskK, (this.taskAdds.get(taskK) ?? 0) + 1);
      this.runTaskAdds.set(runTaskK, (this.runTaskAdds.get(runTaskK) ?? 0) + 1);
      this.admitted.push(c);
    }
  }
}

/**
 * Queued and running instances of the candidates' tasks that have a per-task limit: by
 * `dag_id\0task_id` for max_active_tis_per_dag, by `dag_id\0run_id\0task_id` for
 * max_active_tis_per_dagrun (read through the state index: bounded by what is active, not by
 * history). No query when no candidate's task has a limit.
 */
async function limitedTaskActive(
  trx: Db,
  cands: readonly Candidate[],
): Promise<{ taskActive: Map<string, number>; runTaskActive: Map<string, number> }> {
  const limited = new Set<string>();
  for (const c of cands) {
    const plan = await loadDag(trx, c.dag_id, c.dag_hash);
    const t = plan?.task(c.task_id);
    if ((t?.max_active_tis_per_dag ?? null) !== null || (t?.max_active_tis_per_dagrun ?? null) !== null)
      limited.add(JSON.stringify([c.dag_id, c.task_id]));
  }
  const taskActive = new Map<string, number>();
  const runTaskActive = new Map<string, number>();
  if (limited.size === 0) return { taskActive, runTaskActive };
  const res = await sql<{ dag_id: string; run_id: string; task_id: string; n: number }>`
    select dag_id, run_id, task_id, count(*)::int as n from task_instance
    where state in ('queued', 'running')
      and (dag_id, task_id) in (select k->>0, k->>1 from jsonb_array_elements(${`[${[...limited].join(",")}]`}::jsonb) as k)
    group by dag_id, run_id, task_id`.execute(trx);
  for (const r of res.rows) {
    const k = `${r.dag_id}\0${r.task_id}`;
    taskActive.set(k, (taskActive.get(k) ?? 0) + r.n);
    runTaskActive.set(`${r.dag_id}\0${r.run_id}\0${r.task_id}`, r.n);
  }
  return { taskActive, runTaskActive };
}
