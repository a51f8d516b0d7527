// What a running task may do to other DAGs through the execution API (decision 0033): trigger a
// run, clear a run, read a run's state, and count task instances or runs in given states. The
// REST API's services do the work; this module adds the task-token rules: changes need a "task"
// token of a try that is running now, the audit log names the task, and a task may not clear the
// run it belongs to.
import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { addAuditLog, getDagRun, type DagRunRow, type Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { TokenClaims } from "../model/execution-api.js";
import type {
  ControlDagRun,
  ControlStatesRequest,
  ControlStatesResponse,
  ControlTriggerRequest,
} from "../model/execution-control.js";
import { clearTaskInstances } from "./clear-task-instances.js";
import { loadDag } from "./dag-cache.js";
import { dagNotFound, runNotFound } from "./ids.js";
import { describeTi, tiConflict } from "./ti-conflict.js";
import { triggerDagRun } from "./trigger-dag-run.js";

export interface TaskControlOptions {
  events?: EngineEvents | null;
  defaultTimezone?: string;
}

/** The audit log's owner for changes a task made: `task:<dag>.<task>[map]/<run>`. */
export function taskActor(claims: TokenClaims): string {
  const { ti } = claims;
  return `task:${ti.dag_id}.${ti.task_id}${ti.map_index >= 0 ? `[${ti.map_index}]` : ""}/${ti.run_id}`;
}

function runJson(run: DagRunRow): ControlDagRun {
  return {
    dag_id: run.dag_id,
    run_id: run.run_id,
    state: run.state,
    run_type: run.run_type,
    logical_date: run.logical_date === null ? null : new Date(run.logical_date).toISOString(),
    clear_number: run.clear_number,
  };
}

/** TI_CONFLICT unless the token's try is running now: an old token must not change other DAGs. */
async function mustBeRunning(db: Executor, claims: TokenClaims): Promise<void> {
  const { ti } = claims;
  const row = await db
    .selectFrom("task_instance")
    .select("state")
    .where("dag_id", "=", ti.dag_id)
    .where("run_id", "=", ti.run_id)
    .where("task_id", "=", ti.task_id)
    .where("map_index", "=", ti.map_index)
    .where("state", "=", "running")
    .where("try_number", "=", claims.try_number)
    .executeTakeFirst();
  if (row === undefined) throw await tiConflict(db, claims, "running");
}

/**
 * Triggers a manual run of `dagId` for a running task. DAG_RUN_EXISTS carries the existing run
 * (`details.run_id`, `details.state`), so the operator can clear it (resetDagRun) or skip.
 */
export async function triggerRunForTask(
  db: Executor,
  claims: TokenClaims,
  dagId: string,
  req: ControlTriggerRequest,
  options: TaskControlOptions = {},
): Promise<ControlDagRun> {
  await mustBeRunning(db, claims);
  try {
    const run = await triggerDagRun(
      db,
      {
        dagId,
        conf: req.conf ?? {},
        runId: req.run_id ?? null,
        logicalDate: req.logical_date ?? null,
        note: req.note ?? null,
        owner: taskActor(claims),
      },
      {
        events: options.events ?? null,
        ...(options.defaultTimezone !== undefined ? { defaultTimezone: options.defaultTimezone } : {}),
      },
    );
    return runJson(run);
  } catch (err) {
    if (!(err instanceof UpdraftError) || err.code !== "DAG_RUN_EXISTS") throw err;
    const existing = await findClash(db, dagId, req);
    if (existing === undefined) throw err;
    throw new UpdraftError("DAG_RUN_EXISTS", err.message, {
      details: { dag_id: dagId, run_id: existing.run_id, state: existing.state },
    });
  }
}

/** The run that made a trigger fail: the same run id, else the same logical date. */
async function findClash(
  db: Executor,
  dagId: string,
  req: ControlTriggerRequest,
): Promise<DagRunRow | undefined> {
  if (req.run_id !== undefined && req.run_id !== null) {
    const same = await getDagRun(db, { dagId, runId: req.run_id });
    if (same !== undefined) return same;
  }
  if (req.logical_date === undefined || req.logical_date === null) return undefined;
  return db
    .selectFrom("dag_run")
    .selectAll()
    .where("dag_id", "=", dagId)
    .where("logical_date", "=", new Date(req.logical_date))
    .executeTakeFirst();
}

/** Clears every task instance of another run (Airflow's reset_dag_run), as the REST API's clear. */
export async function clearRunForTask(
  db: Executor,
  claims: TokenClaims,
  dagId: string,
  runId: string,
  options: TaskControlOptions = {},
): Promise<ControlDagRun> {
  if (dagId === claims.ti.dag_id && runId === claims.ti.run_id)
    throw new UpdraftError(
      "FORBIDDEN",
      `The ${describeTi(claims)} may not clear its own DAG run; clear it from the UI, the REST API or \`updraft tasks clear\`.`,
    );
  await mustBeRunning(db, claims);
  if ((await getDagRun(db, { dagId, runId })) === undefined) throw runNotFound(dagId, runId);
  await clearTaskInstances(db, { dagId, runId }, { events: options.events ?? null });
  await addAuditLog(db, { event: "dag_run.clear", dagId, runId, owner: taskActor(claims) });
  const run = await getDagRun(db, { dagId, runId });
  if (run === undefined) throw runNotFound(dagId, runId);
  return runJson(run);
}

/** A run's state (any DAG's: reading is allowed to every token). */
export async function dagRunForTask(db: Executor, dagId: string, runId: string): Promise<ControlDagRun> {
  const run = await getDagRun(db, { dagId, runId });
  if (run === undefined) throw runNotFound(dagId, runId);
  return runJson(run);
}

/** The tasks of a group and its nested groups, from the serialized DAG. */
function groupTasks(
  tasks: readonly { task_id: string; task_group_id: string | null }[],
  groups: readonly { group_id: string; parent_group_id: string | null }[],
  groupId: string,
): string[] | undefined {
  if (!groups.some((g) => g.group_id === groupId)) return undefined;
  const parent = new Map(groups.map((g) => [g.group_id, g.parent_group_id]));
  const inGroup = (g: string | null): boolean => {
    for (let at = g, depth = 0; at !== null && at !== undefined && depth < 100; depth++) {
      if (at === groupId) return true;
      at = parent.get(at) ?? null;
    }
    return false;
  };
  return tasks.filter((t) => inGroup(t.task_group_id)).map((t) => t.task_id);
}

function parseDates(dates: readonly string[]): string[] {
  return dates.map((d) => {
    const t = new Date(d);
    if (Number.isNaN(t.getTime()))
      throw new UpdraftError(
        "LOGICAL_DATE_INVALID",
        `The logical date ${JSON.stringify(d)} is not an ISO 8601 date-time.`,
      );
    return t.toISOString();
  });
}

/**
 * ExternalTaskSensor's count (Airflow's `_get_count`): for each (task, logical date) whether all
 * its instances (every map index) are in `states`, and whether any is; without tasks, the runs
 * in `states`. Instances in state `removed` are left out, as they no longer belong to the run.
 */
export async function countStates(
  db: Executor,
  dagId: string,
  req: ControlStatesRequest,
): Promise<ControlStatesResponse> {
  const dates = parseDates(req.logical_dates);
  const datesJson = JSON.stringify([...new Set(dates)]);
  const statesJson = JSON.stringify(req.states);
  let taskIds = req.task_ids ?? null;
  if (req.task_group_id !== undefined || req.check_existence === true) {
    const dag = await loadDag(db, dagId);
    if (dag === undefined) throw dagNotFound(dagId);
    if (req.task_group_id !== undefined) {
      const ids = groupTasks(dag.dag.tasks, dag.dag.task_groups, req.task_group_id);
      if (ids === undefined)
        throw new UpdraftError(
          "TASK_GROUP_NOT_FOUND",
          `DAG "${dagId}" has no task group "${req.task_group_id}". GET /api/v1/dags/${dagId}/details lists its tasks and their groups.`,
          { details: { dag_id: dagId, task_group_id: req.task_group_id } },
        );
      taskIds = [...new Set([...(taskIds ?? []), ...ids])];
    } else if (taskIds !== null) {
      const known = new Set(dag.dag.tasks.map((t) => t.task_id));
      const missing = taskIds.filter((id) => !known.has(id));
      if (missing.length > 0)
        throw new UpdraftError(
          "TASK_NOT_FOUND",
          `DAG "${dagId}" has no task ${missing.map((id) => `"${id}"`).join(", ")}.`,
          { details: { dag_id: dagId, task_ids: missing } },
        );
    }
  }
  const distinctDates = JSON.parse(datesJson) as string[];
  if (taskIds === null) {
    const r = await sql<{ n: number | string }>`
      select count(*) as n from dag_run
      where dag_id = ${dagId}
        and logical_date in (select (jsonb_array_elements_text(${datesJson}::jsonb))::timestamptz)
        and state in (select jsonb_array_elements_text(${statesJson}::jsonb))`.execute(db);
    const n = Number(r.rows[0]?.n ?? 0);
    return { expected: distinctDates.length, all: n, any: n };
  }
  const idsJson = JSON.stringify(taskIds);
  const r = await sql<{ all_in: number | string; any_in: number | string }>`
    select count(*) filter (where k.n_in = k.n_all) as all_in, count(*) filter (where k.n_in > 0) as any_in
    from (
      select ti.task_id, dr.logical_date, count(*) as n_all,
        count(*) filter (where ti.state in (select jsonb_array_elements_text(${statesJson}::jsonb))) as n_in
      from task_instance ti
      join dag_run dr on dr.dag_id = ti.dag_id and dr.run_id = ti.run_id
      where ti.dag_id = ${dagId}
        and ti.task_id in (select jsonb_array_elements_text(${idsJson}::jsonb))
        and dr.logical_date in (select (jsonb_array_elements_text(${datesJson}::jsonb))::timestamptz)
        and (ti.state is null or ti.state <> 'removed')
      group by ti.task_id, dr.logical_date
    ) k`.execute(db);
  return {
    expected: taskIds.length * distinctDates.length,
    all: Number(r.rows[0]?.all_in ?? 0),
    any: Number(r.rows[0]?.any_in ?? 0),
  };
}
