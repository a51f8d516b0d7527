// What explain-dependencies.ts needs to explain one task instance, read (never written) with the
// same sources the scheduler decides from: the serialized DAG's plan, the run's upstream
// instances, the previous run (services/prev-dagrun.ts), pool slot use and active counts.
import { sql } from "kysely";
import {
  getDag,
  getDagRun,
  getPoolSlotStats,
  getTaskInstance,
  type Executor,
  type TaskInstanceRow,
} from "../../db/index.js";
import type { DependencyFacts } from "../../model/explain-dependencies.js";
import { dagNotFound, loadDag, pastBlocks, runNotFound } from "../../services/index.js";
import { tiNotFound } from "./task-instances.js";

export interface TiRef {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
}

/** The facts and the task instance row; 404s name the missing DAG, run or task instance. */
export async function dependencyFacts(
  db: Executor,
  ref: TiRef,
  defaultMaxActiveTasks: number,
): Promise<{ facts: DependencyFacts; ti: TaskInstanceRow }> {
  const { dagId, runId, taskId, mapIndex } = ref;
  const [dag, run, ti] = await Promise.all([
    getDag(db, dagId),
    getDagRun(db, { dagId, runId }),
    getTaskInstance(db, { dagId, runId, taskId, mapIndex }),
  ]);
  if (dag === undefined) throw dagNotFound(dagId);
  if (run === undefined) throw runNotFound(dagId, runId);
  if (ti === undefined) throw tiNotFound(dagId, runId, taskId, mapIndex);

  const plan = await loadDag(db, dagId);
  const tp = plan?.tasks.get(taskId);
  const readIds = tp === undefined ? [] : [...new Set([...tp.upstream, ...tp.indirectSetups])];
  const [upstream, counts, now] = await Promise.all([
    readIds.length === 0
      ? Promise.resolve([])
      : db
          .selectFrom("task_instance")
          .select(["task_id", "map_index", "state"])
          .where("dag_id", "=", dagId)
          .where("run_id", "=", runId)
          .where("task_id", "in", readIds)
          .execute(),
    sql<{ run: number; task_in_dag: number; task_in_run: number }>`
      select count(*) filter (where run_id = ${runId})::int as run,
        count(*) filter (where task_id = ${taskId})::int as task_in_dag,
        count(*) filter (where run_id = ${runId} and task_id = ${taskId})::int as task_in_run
      from task_instance where dag_id = ${dagId} and state in ('queued', 'running')`.execute(db),
    sql<{ now: Date }>`select now() as now`.execute(db),
  ]);
  // The previous run and the pools matter only where the scheduler reads them.
  const past =
    plan !== undefined && tp?.task.depends_on_past === true && ti.state === null
      ? ((
          await pastBlocks(db, plan, dagId, runId, [
            { task_id: taskId, map_index: mapIndex, state: null, retry_due: false },
          ])
        ).get(taskId) ?? null)
      : null;
  const pool =
    ti.state === "scheduled" ? (await getPoolSlotStats(db)).find((p) => p.pool === ti.pool) : undefined;
  const active = counts.rows[0] ?? { run: 0, task_in_dag: 0, task_in_run: 0 };
  return {
    ti,
    facts: {
      dagId,
      dagPaused: dag.is_paused,
      run: { state: run.state, run_type: run.run_type, logical_date: run.logical_date },
      ti: {
        task_id: ti.task_id,
        map_index: ti.map_index,
        state: ti.state,
        try_number: ti.try_number,
        next_retry_at: ti.next_retry_at,
        end_date: ti.end_date,
        pool: ti.pool,
        pool_slots: ti.pool_slots,
      },
      plan,
      upstream,
      past,
      pool,
      active: { run: active.run, taskInDag: active.task_in_dag, taskInRun: active.task_in_run },
      defaultMaxActiveTasks,
      now: new Date(now.rows[0]?.now ?? Date.now()),
    },
  };
}
