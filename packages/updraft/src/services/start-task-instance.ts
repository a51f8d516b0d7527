import { sql } from "kysely";
import { isUpdraftError } from "../common/errors.js";
import type { Executor, JsonValue } from "../db/index.js";
import type { StartResponse, TokenClaims } from "../model/execution-api.js";
import { resolveParams } from "../model/params.js";
import type { DagRunType } from "../model/states.js";
import { loadDag, peekCachedDag, type CachedDag, type XComReference } from "./dag-cache.js";
import { tiConflict } from "./ti-conflict.js";

export interface StartOptions {
  /** Seconds between the runner's heartbeats (default 5). */
  heartbeatIntervalS?: number;
}

interface StartRow {
  max_tries: number;
  run_type: DagRunType;
  logical_date: Date | null;
  data_interval_start: Date | null;
  data_interval_end: Date | null;
  start_date: Date | null;
  run_after: Date;
  conf: Record<string, JsonValue>;
  dag_hash: string | null;
  /** [task_id, key, map_index, value] of the referenced tasks' XComs. */
  xcoms: [string, string, number, JsonValue][];
}

/**
 * Starts a try: `queued → running` for exactly the token's try (TI_CONFLICT otherwise), recording
 * the runner and the database's now(), and clearing XComs left by earlier tries (as Airflow does).
 * Returns what the runner needs to build the task context, with the XComs the task's fields refer
 * to prefetched. One statement in the usual case (the DAG is cached by hash).
 */
export async function startTaskInstance(
  db: Executor,
  claims: TokenClaims,
  runner: { hostname: string; pid: number },
  options: StartOptions = {},
): Promise<StartResponse> {
  const { ti } = claims;
  let dag = peekCachedDag(ti.dag_id) ?? (await loadDag(db, ti.dag_id));
  let refs = dag?.xcomReferences(ti.task_id) ?? [];
  const result = await sql<StartRow>`
    with upd as (
      update task_instance set state = 'running', start_date = now(), end_date = null, duration = null,
        hostname = ${runner.hostname}, pid = ${runner.pid}, last_heartbeat_at = now(), next_retry_at = null,
        updated_at = now()
      where dag_id = ${ti.dag_id} and run_id = ${ti.run_id} and task_id = ${ti.task_id}
        and map_index = ${ti.map_index} and state = 'queued' and try_number = ${claims.try_number}
      returning max_tries
    )${claims.try_number > 1 ? clearEarlierXcoms(claims) : sql``}
    select upd.max_tries, dr.run_type, dr.logical_date, dr.data_interval_start, dr.data_interval_end,
      dr.start_date, dr.run_after, dr.conf,
      (select dag_hash from serialized_dag where dag_id = ${ti.dag_id}) as dag_hash,
      ${xcomSubquery(ti.dag_id, ti.run_id, refs)} as xcoms
    from upd join dag_run dr on dr.dag_id = ${ti.dag_id} and dr.run_id = ${ti.run_id}`.execute(db);
  const row = result.rows[0];
  if (row === undefined) throw await tiConflict(db, claims, "queued");

  let xcoms = row.xcoms;
  if (row.dag_hash !== (dag?.hash ?? null)) {
    // The DAG changed since it was cached: read it again, and the XComs if the references differ.
    dag = row.dag_hash === null ? undefined : await loadDag(db, ti.dag_id, row.dag_hash);
    const fresh = dag?.xcomReferences(ti.task_id) ?? [];
    if (fresh.map((r) => r.prefetchKey).join("\n") !== refs.map((r) => r.prefetchKey).join("\n")) {
      refs = fresh;
      const again = await sql<{
        xcoms: StartRow["xcoms"];
      }>`select ${xcomSubquery(ti.dag_id, ti.run_id, refs)} as xcoms`.execute(db);
      xcoms = again.rows[0]?.xcoms ?? [];
    }
  }

  const logical = row.logical_date ?? row.run_after;
  const conf = row.conf;
  const maskSecrets: string[] = [];
  return {
    dag_run: {
      dag_id: ti.dag_id,
      run_id: ti.run_id,
      run_type: row.run_type,
      logical_date: logical.toISOString(),
      data_interval_start: (row.data_interval_start ?? logical).toISOString(),
      data_interval_end: (row.data_interval_end ?? logical).toISOString(),
      start_date: row.start_date === null ? null : row.start_date.toISOString(),
      conf,
    },
    params: runParams(dag, conf),
    max_tries: row.max_tries,
    heartbeat_interval_s: options.heartbeatIntervalS ?? 5,
    prefetched_xcoms: prefetched(refs, xcoms),
    mask_secrets: maskSecrets,
  };
}

/**
 * Deletes XComs of earlier tries. A first try has none (XComs are only pushed by a running try of
 * this instance, and a clear keeps try_number), so the statement leaves this out for it.
 */
function clearEarlierXcoms(claims: TokenClaims) {
  const { ti } = claims;
  return sql`, cleared as (
      delete from xcom where dag_id = ${ti.dag_id} and run_id = ${ti.run_id} and task_id = ${ti.task_id}
        and map_index = ${ti.map_index} and exists (select 1 from upd)
    )`;
}

/** A JSON array of the XCom rows of the referenced tasks (empty when there are none). */
function xcomSubquery(dagId: string, runId: string, refs: readonly XComReference[]) {
  if (refs.length === 0) return sql`'[]'::json`;
  const taskIds = JSON.stringify([...new Set(refs.map((r) => r.taskId))]);
  return sql`(select coalesce(json_agg(json_build_array(x.task_id, x.key, x.map_index, x.value)
      order by x.task_id, x.key, x.map_index), '[]'::json)
    from xcom x where x.dag_id = ${dagId} and x.run_id = ${runId}
      and x.task_id in (select jsonb_array_elements_text(${taskIds}::jsonb)))`;
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
function runParams(dag: CachedDag | undefined, conf: Record<string, JsonValue>): Record<string, unknown> {
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
