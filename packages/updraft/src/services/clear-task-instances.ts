import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { inTransaction, taskInstancesWithRunDate, type Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { DagPlan } from "../model/dag-plan.js";
import { upstreamClosure } from "../model/graph.js";
import type { TaskInstanceState } from "../model/states.js";
import { loadDag } from "./dag-cache.js";
import { markedTaskInstances, type MarkedRow } from "./external-task-markers.js";
import { dagNotFound } from "./ids.js";

export interface ClearTaskInstancesInput {
  dagId: string;
  /** Tasks whose id contains a match of this regular expression (as `updraft tasks clear -t`). */
  taskRegex?: string | null;
  /** Exactly these tasks (with `taskRegex`, tasks matching either). */
  taskIds?: readonly string[] | null;
  runId?: string | null;
  /** Runs whose logical date is at or after this. */
  startDate?: Date | null;
  /** Runs whose logical date is at or before this. */
  endDate?: Date | null;
  /** Only failed and upstream_failed task instances. */
  onlyFailed?: boolean;
  /** Only running task instances. */
  onlyRunning?: boolean;
  /**
   * Also every task downstream of the selected ones, and the tasks that ExternalTaskMarkers among
   * them mark in other DAGs (with their downstream), as Airflow's clear with dependent DAGs.
   */
  downstream?: boolean;
  /** Also every task upstream of the selected ones. */
  upstream?: boolean;
  /** Only report what would be cleared. */
  dryRun?: boolean;
}

/** A task instance a clear reset (or would reset), with its state before the clear. */
export type ClearedTaskInstance = MarkedRow;

export interface ClearResult {
  /** This DAG's task instances first, then those of other DAGs reached through markers. */
  taskInstances: ClearedTaskInstance[];
  /** Finished runs of this DAG set back to queued. */
  dagRunsRequeued: string[];
  /** Finished runs of other DAGs (reached through ExternalTaskMarkers) set back to queued. */
  externalDagRunsRequeued: { dag_id: string; run_id: string }[];
}

/**
 * Airflow's `tasks clear`: the selected task instances start over. A running one becomes
 * `restarting` (its runner is refused at the next heartbeat), any other goes back to no state
 * with its try_number kept and max_tries raised so it gets its retries again; finished runs go
 * back to queued (clear_number + 1). Rows are locked while they are changed. Returns what was
 * (or, with `dryRun`, would be) cleared.
 */
export async function clearTaskInstances(
  db: Executor,
  input: ClearTaskInstancesInput,
  options: { events?: EngineEvents | null } = {},
): Promise<ClearResult> {
  const dag = await loadDag(db, input.dagId);
  if (dag === undefined) throw dagNotFound(input.dagId);
  const selected = selectTasks(
    dag.dag.tasks.map((t) => t.task_id),
    input,
  );
  const tasks = new Set(selected);
  for (const id of selected) {
    if (input.downstream === true) for (const d of dag.allDownstream(id)) tasks.add(d);
    if (input.upstream === true) for (const u of upstreamClosure(dag.dag.tasks, id)) tasks.add(u);
  }
  if (tasks.size === 0) return { taskInstances: [], dagRunsRequeued: [], externalDagRunsRequeued: [] };
  const states: TaskInstanceState[] | null =
    input.onlyFailed === true
      ? ["failed", "upstream_failed"]
      : input.onlyRunning === true
        ? ["running"]
        : null;

  return inTransaction(db, async (trx) => {
    let q = taskInstancesWithRunDate(trx, input.dagId)
      .where("ti.task_id", "in", [...tasks])
      .orderBy("ti.run_id")
      .orderBy("ti.task_id")
      .orderBy("ti.map_index");
    if (input.runId !== undefined && input.runId !== null) q = q.where("ti.run_id", "=", input.runId);
    if (input.startDate !== undefined && input.startDate !== null)
      q = q.where("dr.logical_date", ">=", input.startDate);
    if (input.endDate !== undefined && input.endDate !== null)
      q = q.where("dr.logical_date", "<=", input.endDate);
    if (states !== null) q = q.where("ti.state", "in", states);
    const rows = await (input.dryRun === true ? q : q.forUpdate("ti")).execute();
    const marked =
      input.downstream === true
        ? await markedTaskInstances(trx, dag, rows, input.dryRun !== true, states)
        : [];
    const all = [...rows, ...marked.flatMap((m) => m.rows)];
    if (input.dryRun === true || all.length === 0)
      return { taskInstances: all, dagRunsRequeued: [], externalDagRunsRequeued: [] };
    const dagRunsRequeued = await clearRows(trx, input.dagId, dag, rows);
    const externalDagRunsRequeued: { dag_id: string; run_id: string }[] = [];
    for (const m of marked) {
      for (const runId of await clearRows(trx, m.dagId, m.dag, m.rows))
        externalDagRunsRequeued.push({ dag_id: m.dagId, run_id: runId });
    }
    return { taskInstances: all, dagRunsRequeued, externalDagRunsRequeued };
  }).then((result) => {
    if (input.dryRun !== true) {
      const runs = new Map(result.taskInstances.map((t) => [`${t.dag_id}\0${t.run_id}`, t]));
      for (const t of runs.values()) {
        options.events?.emit({ type: "ti_state_changed", dag_id: t.dag_id, run_id: t.run_id });
      }
    }
    return result;
  });
}

/** Starts `rows` (of one DAG, locked) over; returns the finished runs set back to queued. */
async function clearRows(
  trx: Executor,
  dagId: string,
  dag: DagPlan,
  rows: readonly MarkedRow[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const keys = JSON.stringify(
    rows.map((r) => ({
      run_id: r.run_id,
      task_id: r.task_id,
      map_index: r.map_index,
      retries: dag.task(r.task_id)?.retries ?? 0,
    })),
  );
  await sql`
    update task_instance ti set
      state = case when ti.state = 'running' then 'restarting' else null end,
      max_tries = case when ti.state = 'running' then ti.max_tries else ti.try_number + k.retries end,
      next_retry_at = null, trigger_id = null, next_method = null, next_kwargs = null, updated_at = now()
    from jsonb_to_recordset(${keys}::jsonb) as k(run_id text, task_id text, map_index int, retries int)
    where ti.dag_id = ${dagId} and ti.run_id = k.run_id and ti.task_id = k.task_id
      and ti.map_index = k.map_index`.execute(trx);
  const runIds = JSON.stringify([...new Set(rows.map((r) => r.run_id))]);
  const requeued = await sql<{ run_id: string }>`
    update dag_run set state = 'queued', queued_at = now(), start_date = null, end_date = null,
      last_scheduling_decision = null, clear_number = clear_number + 1, updated_at = now()
    where dag_id = ${dagId} and run_id in (select jsonb_array_elements_text(${runIds}::jsonb))
      and state in ('success', 'failed')
    returning run_id`.execute(trx);
  return requeued.rows.map((r) => r.run_id).sort();
}

function selectTasks(all: readonly string[], input: ClearTaskInstancesInput): string[] {
  const hasRegex = input.taskRegex !== undefined && input.taskRegex !== null && input.taskRegex !== "";
  const hasIds = input.taskIds !== undefined && input.taskIds !== null;
  if (!hasRegex && !hasIds) return [...all];
  const out = new Set<string>();
  if (hasIds) {
    const known = new Set(all);
    const unknown = (input.taskIds ?? []).filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new UpdraftError(
        "TASK_NOT_FOUND",
        `DAG "${input.dagId}" has no task ${unknown.map((id) => `"${id}"`).join(", ")}. GET /api/v1/dags/${input.dagId}/details lists its tasks.`,
      );
    }
    for (const id of input.taskIds ?? []) out.add(id);
  }
  if (hasRegex) {
    let re: RegExp;
    try {
      re = new RegExp(input.taskRegex ?? "");
    } catch (err) {
      throw new UpdraftError(
        "TASK_REGEX_INVALID",
        `The task regex ${JSON.stringify(input.taskRegex)} is not a valid regular expression.`,
        { cause: err },
      );
    }
    for (const id of all) if (re.test(id)) out.add(id);
  }
  return [...out];
}
