// Marking task instances by hand (the API's updateTaskInstancesState and PATCH on a task
// instance, the UI's "mark success/failed/skipped"), with Airflow 2.10's meaning
// (airflow/api/common/mark_tasks.py set_state, DAG.set_task_instance_state): the task's instances
// in one run, and with the options its upstream/downstream relatives and the runs before/after it.
// The end is written as every other end (services/end-try.ts: end_date, duration, the try's
// history row). A running try marked this way is refused at its next heartbeat and its runner
// stops; its late finish changes nothing (the same rule as marking a run, set-dag-run-state.ts).
import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { inTransaction, taskInstancesWithRunDate, type Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import { upstreamClosure } from "../model/graph.js";
import { TASK_INSTANCE_STATES, type TaskInstanceState } from "../model/states.js";
import { clearTaskInstances } from "./clear-task-instances.js";
import { loadDag } from "./dag-cache.js";
import { endTries, type TryEnd } from "./end-try.js";
import { dagNotFound, runNotFound } from "./ids.js";

export type MarkableTiState = "success" | "failed" | "skipped";

export interface SetTaskInstanceStateInput {
  dagId: string;
  taskId: string;
  /** The run to start from; exactly one of runId and logicalDate. */
  runId?: string | null;
  /** The run to start from, by its logical date (Airflow's execution_date). */
  logicalDate?: Date | null;
  /** Only these map indexes of the task (its relatives: every index); null: every index. */
  mapIndexes?: readonly number[] | null;
  upstream?: boolean;
  downstream?: boolean;
  /** Also the runs with a later logical date. */
  future?: boolean;
  /** Also the runs with an earlier logical date. */
  past?: boolean;
  state: MarkableTiState;
  /** Only report what would change. */
  dryRun?: boolean;
}

export interface MarkedTaskInstance {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  /** The state before the change. */
  state: TaskInstanceState | null;
  logical_date: Date | null;
}

export interface SetTaskInstanceStateResult {
  /** The run the marking started from. */
  runId: string;
  /** Task instances changed (or, dry run, that would change), by logical date, run, task, index. */
  taskInstances: MarkedTaskInstance[];
}

/**
 * Sets the selected task instances to `state` (those already in it are left alone, as Airflow's
 * query leaves them). Unless dry run, the task's failed and upstream_failed downstream instances
 * in the same runs are then cleared so they run again (DAG.set_task_instance_state), and the
 * scheduler is woken for every run touched. DAG_NOT_FOUND, TASK_NOT_FOUND, DAG_RUN_NOT_FOUND,
 * TASK_INSTANCE_NOT_FOUND when what is named does not exist; VALUE_INVALID unless exactly one of
 * runId and logicalDate is given.
 */
export async function setTaskInstanceState(
  db: Executor,
  input: SetTaskInstanceStateInput,
  options: { events?: EngineEvents | null } = {},
): Promise<SetTaskInstanceStateResult> {
  const hasRun = input.runId !== undefined && input.runId !== null;
  const hasDate = input.logicalDate !== undefined && input.logicalDate !== null;
  if (hasRun === hasDate) {
    throw new UpdraftError(
      "VALUE_INVALID",
      "Give exactly one of dag_run_id and execution_date: the run whose task instance to mark.",
    );
  }
  const plan = await loadDag(db, input.dagId);
  if (plan === undefined) throw dagNotFound(input.dagId);
  if (!plan.tasks.has(input.taskId)) {
    throw new UpdraftError(
      "TASK_NOT_FOUND",
      `DAG "${input.dagId}" has no task "${input.taskId}". GET /api/v1/dags/${encodeURIComponent(input.dagId)}/tasks lists its tasks.`,
      { details: { dag_id: input.dagId, task_id: input.taskId } },
    );
  }
  const target = await targetRun(db, input);
  await mustHaveInstance(db, input, target.run_id);

  // Airflow's find_task_relatives: the task (at the given indexes), and its relatives whole.
  const relatives = new Set<string>();
  if (input.downstream === true) for (const id of plan.allDownstream(input.taskId)) relatives.add(id);
  if (input.upstream === true)
    for (const id of upstreamClosure(plan.dag.tasks, input.taskId)) relatives.add(id);
  relatives.delete(input.taskId);
  const mapIndexes = input.mapIndexes ?? null;

  const marked = await inTransaction(db, async (tx) => {
    let q = taskInstancesWithRunDate(tx, input.dagId)
      .where((eb) => eb.or([eb("ti.state", "is", null), eb("ti.state", "!=", input.state)]))
      .where((eb) => {
        const self =
          mapIndexes === null
            ? eb("ti.task_id", "=", input.taskId)
            : mapIndexes.length === 0
              ? eb.val(false)
              : eb.and([eb("ti.task_id", "=", input.taskId), eb("ti.map_index", "in", [...mapIndexes])]);
        return relatives.size === 0 ? self : eb.or([self, eb("ti.task_id", "in", [...relatives])]);
      });
    // Past and future by logical date (Airflow's get_run_ids over the DAG's existing runs); a
    // run without a logical date has no past or future.
    const date = target.logical_date;
    if (date === null || (input.past !== true && input.future !== true)) {
      q = q.where("ti.run_id", "=", target.run_id);
    } else {
      if (input.past !== true) q = q.where("dr.logical_date", ">=", date);
      if (input.future !== true) q = q.where("dr.logical_date", "<=", date);
      q = q.where("dr.logical_date", "is not", null);
    }
    q = q.orderBy("dr.logical_date").orderBy("ti.run_id").orderBy("ti.task_id").orderBy("ti.map_index");
    const rows = await (input.dryRun === true ? q : q.forUpdate("ti")).execute();
    if (input.dryRun === true || rows.length === 0) return rows;
    const ends: TryEnd[] = rows.map((r) => ({
      dag_id: r.dag_id,
      run_id: r.run_id,
      task_id: r.task_id,
      map_index: r.map_index,
      try_number: r.try_number,
      state: input.state,
      retryable: false,
      // Marked by a user: no failure email about what they just did.
      notify: false,
      delay_s: 0,
      retry_as: "up_for_retry",
      new_try: false,
      error: null,
    }));
    // The guard of every state change: only from a state other than the one set (rows are locked).
    const allowed = TASK_INSTANCE_STATES.filter((s) => s !== input.state);
    const ended = await endTries(tx, ends, sql`(t.state is null or t.state = any(${allowed}::text[]))`);
    const changed = new Set(ended.map((e) => `${e.run_id}\0${e.task_id}\0${e.map_index}`));
    return rows.filter((r) => changed.has(`${r.run_id}\0${r.task_id}\0${r.map_index}`));
  });
  const result = { runId: target.run_id, taskInstances: marked };
  if (input.dryRun === true) return result;

  // DAG.set_task_instance_state: the task's failed and upstream_failed downstream instances in
  // the same range of runs start over, so that marking a failed task success resumes the run.
  const downstream = plan.allDownstream(input.taskId);
  if (downstream.length > 0) {
    const date = target.logical_date;
    const oneRun = date === null || (input.past !== true && input.future !== true);
    await clearTaskInstances(
      db,
      {
        dagId: input.dagId,
        taskIds: downstream,
        onlyFailed: true,
        ...(oneRun
          ? { runId: target.run_id }
          : {
              startDate: input.past === true ? null : date,
              endDate: input.future === true ? null : date,
            }),
      },
      options,
    );
  }
  // The scheduler re-evaluates each run touched: downstream tasks, and the run's own state.
  for (const runId of new Set(marked.map((t) => t.run_id))) {
    options.events?.emit({ type: "ti_state_changed", dag_id: input.dagId, run_id: runId });
  }
  return result;
}

/** The run named by id or by logical date, or a 404 that names it. */
async function targetRun(
  db: Executor,
  input: SetTaskInstanceStateInput,
): Promise<{ run_id: string; logical_date: Date | null }> {
  let q = db.selectFrom("dag_run").select(["run_id", "logical_date"]).where("dag_id", "=", input.dagId);
  q =
    input.runId !== undefined && input.runId !== null
      ? q.where("run_id", "=", input.runId)
      : q.where("logical_date", "=", input.logicalDate ?? new Date(NaN));
  const run = await q.executeTakeFirst();
  if (run !== undefined) return run;
  if (input.runId !== undefined && input.runId !== null) throw runNotFound(input.dagId, input.runId);
  throw new UpdraftError(
    "DAG_RUN_NOT_FOUND",
    `DAG "${input.dagId}" has no run with execution_date ${input.logicalDate?.toISOString() ?? "?"}. GET /api/v1/dags/${encodeURIComponent(input.dagId)}/dagRuns lists its runs.`,
    { details: { dag_id: input.dagId } },
  );
}

/** The task must have an instance in the run (at the given map indexes), as Airflow checks. */
async function mustHaveInstance(
  db: Executor,
  input: SetTaskInstanceStateInput,
  runId: string,
): Promise<void> {
  const indexes = input.mapIndexes ?? null;
  let q = db
    .selectFrom("task_instance")
    .select("map_index")
    .where("dag_id", "=", input.dagId)
    .where("run_id", "=", runId)
    .where("task_id", "=", input.taskId);
  if (indexes !== null && indexes.length > 0) q = q.where("map_index", "in", [...indexes]);
  const found = await q.execute();
  const missing =
    indexes === null || indexes.length === 0
      ? found.length === 0
        ? [-1]
        : []
      : indexes.filter((i) => !found.some((f) => f.map_index === i));
  if (missing.length === 0) return;
  const which = indexes === null || indexes.length === 0 ? "" : ` with map index ${missing.join(", ")}`;
  throw new UpdraftError(
    "TASK_INSTANCE_NOT_FOUND",
    `Run "${runId}" of DAG "${input.dagId}" has no task instance "${input.taskId}"${which}. GET /api/v1/dags/${encodeURIComponent(input.dagId)}/dagRuns/${encodeURIComponent(runId)}/taskInstances lists them.`,
    { details: { dag_id: input.dagId, run_id: runId, task_id: input.taskId } },
  );
}
