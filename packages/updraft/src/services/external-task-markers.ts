// Airflow's ExternalTaskMarker on clear: a marker cleared with "downstream" also clears the marked
// task (and its downstream) in another DAG's run, following further markers there.
import nunjucks from "nunjucks";
import { UpdraftError } from "../common/errors.js";
import { taskInstancesWithRunDate, type Executor } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import type { TaskInstanceState } from "../model/states.js";
import { loadDag } from "./dag-cache.js";

/** The operator name ExternalTaskMarker serializes as (sdk/operators/external-task-marker.ts). */
const MARKER = "ExternalTaskMarker";

/** A task instance as a clear selects it: its key, state, try and its run's logical date. */
export interface MarkedRow {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: TaskInstanceState | null;
  try_number: number;
  logical_date: Date | null;
}

/** The task instances of one other DAG that markers add to a clear. */
export interface MarkedDagRows {
  dagId: string;
  dag: DagPlan;
  rows: MarkedRow[];
}

// Templates here see only the run's own values: the server never loads DAG code (no user
// filters or macros), and a marker's date is almost always `{{ logical_date }}` or `{{ ds }}`.
const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

function render(source: unknown, scope: Record<string, unknown>, what: string): string {
  if (typeof source !== "string") return String(source);
  try {
    return env.renderString(source, scope).trim();
  } catch (err) {
    throw new UpdraftError(
      "EXTERNAL_TASK_MARKER_DATE_INVALID",
      `${what}: its template ${JSON.stringify(source)} cannot be rendered when clearing (${(err as Error).message}). ` +
        "Markers are rendered on the server with logical_date, ds, ts, data_interval_start, data_interval_end, run_id and params only.",
      { cause: err },
    );
  }
}

interface Target {
  dagId: string;
  taskId: string;
  logicalDate: Date;
}

/**
 * Every task instance that the markers among `rows` (of `dag`) reach, DAG by DAG, with locks when
 * `filter.lock`, in `filter.states` when given. `chain` names the markers that led here; `level` counts hops from the first marker,
 * whose recursionDepth bounds the rest (as Airflow's max_recursion_depth).
 */
export async function markedTaskInstances(
  trx: Executor,
  dag: DagPlan,
  rows: readonly MarkedRow[],
  lock: boolean,
  states: readonly TaskInstanceState[] | null,
): Promise<MarkedDagRows[]> {
  const out = new Map<string, MarkedDagRows>();
  const seen = new Set<string>(rows.map(key));
  await follow(trx, dag, rows, { lock, states }, { level: 0, max: null, chain: [] }, out, seen);
  return [...out.values()];
}

function key(r: { dag_id: string; run_id: string; task_id: string; map_index: number }): string {
  return `${r.dag_id}\0${r.run_id}\0${r.task_id}\0${r.map_index}`;
}

async function follow(
  trx: Executor,
  dag: DagPlan,
  rows: readonly MarkedRow[],
  filter: { lock: boolean; states: readonly TaskInstanceState[] | null },
  walk: { level: number; max: number | null; chain: readonly string[] },
  out: Map<string, MarkedDagRows>,
  seen: Set<string>,
): Promise<void> {
  const markers = rows.filter((r) => dag.task(r.task_id)?.operator === MARKER);
  if (markers.length === 0) return;
  const runs = await trx
    .selectFrom("dag_run")
    .select(["run_id", "logical_date", "data_interval_start", "data_interval_end", "conf"])
    .where("dag_id", "=", dag.dag.dag_id)
    .where("run_id", "in", [...new Set(markers.map((m) => m.run_id))])
    .execute();
  const byRun = new Map(runs.map((r) => [r.run_id, r]));
  for (const m of markers) {
    const run = byRun.get(m.run_id);
    const task = dag.task(m.task_id);
    if (run === undefined || task === undefined) continue;
    const label = `${m.dag_id}.${m.task_id}`;
    const depth = Number(task.fields["recursionDepth"] ?? 10);
    const max = walk.max ?? depth;
    if (walk.level + 1 > max) {
      const chain = [...walk.chain, label].join(" → ");
      throw new UpdraftError(
        "EXTERNAL_TASK_MARKER_DEPTH_EXCEEDED",
        `Clearing followed ExternalTaskMarkers ${chain}, past the recursionDepth ${max} of the first one. ` +
          "Raise recursionDepth on that marker if the chain is meant to be this long, or look for markers that point back at each other.",
        { details: { chain: [...walk.chain, label], recursion_depth: max } },
      );
    }
    const logical = run.logical_date === null ? null : new Date(run.logical_date);
    const scope: Record<string, unknown> = {
      logical_date: iso(logical),
      execution_date: iso(logical),
      ds: logical?.toISOString().slice(0, 10) ?? null,
      ds_nodash: logical?.toISOString().slice(0, 10).replace(/-/g, "") ?? null,
      ts: iso(logical),
      data_interval_start: iso(run.data_interval_start === null ? null : new Date(run.data_interval_start)),
      data_interval_end: iso(run.data_interval_end === null ? null : new Date(run.data_interval_end)),
      run_id: run.run_id,
      params: run.conf ?? {},
      dag_run: { run_id: run.run_id, logical_date: iso(logical), conf: run.conf ?? {} },
    };
    const what = `ExternalTaskMarker "${label}" (run ${m.run_id})`;
    // A run without a logical date (an asset-triggered or manual one in Airflow 3) marks nothing
    // when the date comes from it.
    const dateText = render(task.fields["logicalDate"] ?? "{{ logical_date }}", scope, what);
    if (dateText === "" || dateText === "null") continue;
    const target: Target = {
      dagId: render(task.fields["externalDagId"], scope, what),
      taskId: render(task.fields["externalTaskId"], scope, what),
      logicalDate: new Date(dateText),
    };
    if (Number.isNaN(target.logicalDate.getTime()))
      throw new UpdraftError(
        "EXTERNAL_TASK_MARKER_DATE_INVALID",
        `${what}: its logicalDate rendered to ${JSON.stringify(dateText)}, which is not a date. Give ISO text such as "{{ logical_date }}".`,
      );
    const other = await loadDag(trx, target.dagId);
    if (other === undefined || other.task(target.taskId) === undefined)
      throw new UpdraftError(
        "EXTERNAL_TASK_MARKER_TARGET_NOT_FOUND",
        other === undefined
          ? `${what} marks DAG "${target.dagId}", which does not exist. Fix externalDagId or deploy that DAG.`
          : `${what} marks task "${target.taskId}", which DAG "${target.dagId}" does not have. Fix externalTaskId.`,
        { details: { dag_id: target.dagId, task_id: target.taskId } },
      );
    const tasks = [target.taskId, ...other.allDownstream(target.taskId)];
    let q = taskInstancesWithRunDate(trx, target.dagId)
      .where("ti.task_id", "in", tasks)
      .where("dr.logical_date", "=", target.logicalDate)
      .orderBy("ti.run_id")
      .orderBy("ti.task_id")
      .orderBy("ti.map_index");
    // Only failed / only running apply in the other DAGs too, as in Airflow.
    if (filter.states !== null) q = q.where("ti.state", "in", [...filter.states]);
    const found = (await (filter.lock ? q.forUpdate("ti") : q).execute()).filter((r) => !seen.has(key(r)));
    if (found.length === 0) continue;
    for (const r of found) seen.add(key(r));
    let entry = out.get(target.dagId);
    if (entry === undefined) out.set(target.dagId, (entry = { dagId: target.dagId, dag: other, rows: [] }));
    entry.rows.push(...found);
    await follow(
      trx,
      other,
      found,
      filter,
      { level: walk.level + 1, max, chain: [...walk.chain, label] },
      out,
      seen,
    );
  }
}
