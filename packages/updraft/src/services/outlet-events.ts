// The asset events of a finish (decision 0031): a success's outlets, recorded and queued for their
// consumer DAGs by the finish statement (services/finish-task-instance.ts).
import { sql, type RawBuilder } from "kysely";
import type { FinishInput } from "./finish-input.js";

/** The task's outlets (decision 0031): the assets a success of this try updates. */
export function outletUris(input: FinishInput): string[] {
  if (input.req.state !== "success") return [];
  const task = input.plan?.task(input.claims.ti.task_id);
  return [...new Set((task?.outlets ?? []).map((a) => a.uri))];
}

/**
 * The CTEs recording a success's asset events (one per outlet, with the extra the task gave) and
 * queueing them for each active DAG scheduled on the asset; nothing if the end did not apply as a
 * success. One queue row per (asset, consumer): a later update moves its time forward.
 */
export function assetEventCtes(input: FinishInput, uris: readonly string[]): RawBuilder<unknown> {
  const { ti } = input.claims;
  const mine = new Set(uris);
  // The runner refuses extra for other assets; a stale one is ignored rather than failing the end.
  const extras = (input.req.outlet_events ?? []).filter((e) => mine.has(e.uri));
  return sql`asset_ev as (
      insert into asset_event (asset_id, source_dag_id, source_run_id, source_task_id, source_map_index, extra)
      select a.id, ${ti.dag_id}, ${ti.run_id}, ${ti.task_id}, ${ti.map_index}, coalesce(x.extra, '{}'::jsonb)
      from asset a
        left join jsonb_to_recordset(${JSON.stringify(extras)}::jsonb) as x(uri text, extra jsonb) on x.uri = a.uri
      where a.uri = any(${uris}::text[]) and exists (select 1 from ended where ended.state = 'success')
      returning asset_id, timestamp
    ), asset_queued as (
      insert into asset_dag_run_queue (asset_id, target_dag_id, created_at)
      select e.asset_id, r.dag_id, e.timestamp
      from asset_ev e join dag_schedule_asset_reference r on r.asset_id = e.asset_id
        join dag d on d.dag_id = r.dag_id and d.is_active
      on conflict (asset_id, target_dag_id) do update
        set created_at = greatest(asset_dag_run_queue.created_at, excluded.created_at)
    )`;
}
