// What a try needs when it starts, for both ways a try starts: a runner's `start` of a queued try,
// and the execution API handing the next try to the runner that just finished one. The columns a
// start sets, the XComs of earlier tries it clears, and the StartResponse (run, params, prefetched
// XComs) built from one statement's row.
import { sql, type RawBuilder } from "kysely";
import { isUpdraftError } from "../common/errors.js";
import type { JsonValue } from "../db/index.js";
import type { DagPlan, XComReference } from "../model/dag-plan.js";
import type { StartResponse, TaskInstanceKey } from "../model/execution-api.js";
import { resolveParams } from "../model/params.js";
import type { DagRunType } from "../model/states.js";

/** The runner a try runs on. */
export interface RunnerIdentity {
  hostname: string;
  pid: number;
}

/** The row a start statement returns (with `runContextColumns`). */
export interface StartRow {
  max_tries: number;
  run_type: DagRunType;
  logical_date: Date | null;
  data_interval_start: Date | null;
  data_interval_end: Date | null;
  start_date: Date | null;
  run_after: Date;
  conf: Record<string, JsonValue>;
  /** An asset-triggered run's events (decision 0031), or null. */
  asset_events?: NonNullable<StartResponse["dag_run"]["triggering_asset_events"]> | null;
  /** [task_id, key, map_index, value] of the referenced tasks' XComs. */
  xcoms: [string, string, number, JsonValue][];
  /** A resumed deferral's method and kwargs (decision 0030); absent where the start cannot resume. */
  next_method?: string | null;
  next_kwargs?: Record<string, JsonValue> | null;
  /** [first poke's start, pokes before] of a rescheduled sensor's try, or null. */
  reschedules?: [string, number] | null;
}

/** The SET list of a try that starts running now on `runner`, by the database's clock. */
export function runningSet(runner: RunnerIdentity): RawBuilder<unknown> {
  return sql`state = 'running', start_date = now(), end_date = null, duration = null,
    hostname = ${runner.hostname}, pid = ${runner.pid}, last_heartbeat_at = now(), next_retry_at = null,
    updated_at = now()`;
}

/**
 * The CTE `cleared` deleting the XComs an earlier try of `ti` pushed (as Airflow does), if the
 * CTE `started` changed a row and is not the resumption of a deferred try (whose XComs are this
 * try's own). A first try has none (XComs are only pushed by a running try, and a clear keeps
 * try_number), so callers leave it out for try 1.
 */
export function clearEarlierXcoms(ti: TaskInstanceKey): RawBuilder<unknown> {
  return sql`cleared as (
      delete from xcom where dag_id = ${ti.dag_id} and run_id = ${ti.run_id} and task_id = ${ti.task_id}
        and map_index = ${ti.map_index} and exists (select 1 from started where started.next_method is null)
    )`;
}

/** The column `reschedules`: [first poke's start (ISO), count] of this try's task_reschedule rows, or null. */
export function reschedulesColumn(ti: TaskInstanceKey, tryNumber: number): RawBuilder<unknown> {
  return sql`(select case when count(*) = 0 then null
      else json_build_array(to_char(min(r.start_date) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), count(*)) end
    from task_reschedule r where r.dag_id = ${ti.dag_id} and r.run_id = ${ti.run_id}
      and r.task_id = ${ti.task_id} and r.map_index = ${ti.map_index} and r.try_number = ${tryNumber}) as reschedules`;
}

/** The run's columns of a StartRow, from `dag_run dr`, and the prefetched XComs as `xcoms`. */
export function runContextColumns(ti: TaskInstanceKey, refs: readonly XComReference[]): RawBuilder<unknown> {
  return sql`dr.run_type, dr.logical_date, dr.data_interval_start, dr.data_interval_end, dr.start_date,
    dr.run_after, dr.conf, ${xcomSubquery(ti.dag_id, ti.run_id, refs)} as xcoms,
    case when dr.run_type = 'asset_triggered' then ${assetEventsSubquery} end as asset_events`;
}

/** The events linked to the run `dr` (decision 0031), oldest first, as the StartResponse carries them. */
const assetEventsSubquery = sql`(select coalesce(json_agg(json_build_object('id', e.id, 'uri', a.uri,
      'name', a.name, 'group', a."group", 'asset_extra', a.extra, 'extra', e.extra,
      'timestamp', to_char(e.timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'source_dag_id', e.source_dag_id, 'source_run_id', e.source_run_id, 'source_task_id', e.source_task_id,
      'source_map_index', e.source_map_index) order by e.timestamp, e.id), '[]'::json)
    from dag_run_asset_event l join asset_event e on e.id = l.event_id join asset a on a.id = e.asset_id
    where l.dag_run_id = dr.id)`;

/** A JSON array of the XCom rows of the referenced tasks (empty when there are none). */
export function xcomSubquery(
  dagId: string,
  runId: string,
  refs: readonly XComReference[],
): RawBuilder<unknown> {
  if (refs.length === 0) return sql`'[]'::json`;
  const taskIds = JSON.stringify([...new Set(refs.map((r) => r.taskId))]);
  return sql`(select coalesce(json_agg(json_build_array(x.task_id, x.key, x.map_index, x.value)
      order by x.task_id, x.key, x.map_index), '[]'::json)
    from xcom x where x.dag_id = ${dagId} and x.run_id = ${runId}
      and x.task_id in (select jsonb_array_elements_text(${taskIds}::jsonb)))`;
}

/** The runner's StartResponse from a start statement's row. */
export function startResponse(
  plan: DagPlan | undefined,
  ti: TaskInstanceKey,
  row: StartRow,
  refs: readonly XComReference[],
  heartbeatIntervalS: number,
): StartResponse {
  const logical = row.logical_date ?? row.run_after;
  return {
    dag_run: {
      dag_id: ti.dag_id,
      run_id: ti.run_id,
      run_type: row.run_type,
      logical_date: logical.toISOString(),
      data_interval_start: (row.data_interval_start ?? logical).toISOString(),
      data_interval_end: (row.data_interval_end ?? logical).toISOString(),
      start_date: row.start_date === null ? null : row.start_date.toISOString(),
      conf: row.conf,
      ...(row.asset_events == null ? {} : { triggering_asset_events: row.asset_events }),
    },
    params: runParams(plan, row.conf),
    max_tries: row.max_tries,
    heartbeat_interval_s: heartbeatIntervalS,
    prefetched_xcoms: prefetched(refs, row.xcoms),
    mask_secrets: [],
    ...(row.next_method == null ? {} : { next_method: row.next_method, next_kwargs: row.next_kwargs ?? {} }),
    ...(row.reschedules == null
      ? {}
      : { reschedules: { first_poke_at: row.reschedules[0], count: Number(row.reschedules[1]) } }),
  };
}

function prefetched(refs: readonly XComReference[], rows: StartRow["xcoms"]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const ref of refs) {
    const mine = rows.filter(([taskId, key]) => taskId === ref.taskId && key === ref.key);
    if (ref.mapped) {
      const values = mine.filter(([, , mapIndex]) => mapIndex >= 0).map(([, , , value]) => value);
      if (values.length > 0) out[ref.prefetchKey] = values;
    } else {
      const one = mine.find(([, , mapIndex]) => mapIndex === -1);
      if (one !== undefined) out[ref.prefetchKey] = one[3];
    }
  }
  return out;
}

/** The run's conf over the DAG's param defaults. It was validated when the run was created. */
function runParams(dag: DagPlan | undefined, conf: Record<string, JsonValue>): Record<string, unknown> {
  if (dag === undefined) return { ...conf };
  try {
    return resolveParams(dag.paramSpecs, conf);
  } catch (err) {
    // The DAG's params changed after the run was created: the run keeps what it was given.
    if (!isUpdraftError(err, "PARAMS_INVALID")) throw err;
    const values: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(dag.paramSpecs))
      if ("default" in spec) values[name] = spec.default;
    return { ...values, ...conf };
  }
}
