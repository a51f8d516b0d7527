// Asset events made outside a task's success (decision 0031): POST /api/v1/assets/events records
// one for a known asset and queues it for the DAGs scheduled on it, in one statement, as a
// producing task's finish does (services/finish-task-instance.ts).
import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Executor, JsonValue } from "../db/index.js";
import { normalizeAssetUri } from "../model/asset-condition.js";

export interface NewAssetEvent {
  uri: string;
  extra?: Record<string, JsonValue>;
}

export interface CreatedAssetEvent {
  id: number;
  asset_id: number;
  uri: string;
  timestamp: Date;
  extra: Record<string, JsonValue>;
  /** Consumer DAGs the event was queued for. */
  queued_for: string[];
}

/** Records an event of an existing asset and queues it for its active consumers. */
export async function createAssetEvent(db: Executor, input: NewAssetEvent): Promise<CreatedAssetEvent> {
  const uri = normalizeAssetUri(input.uri);
  const result = await sql<CreatedAssetEvent>`
    with ev as (
      insert into asset_event (asset_id, extra)
      select a.id, ${JSON.stringify(input.extra ?? {})}::jsonb from asset a where a.uri = ${uri}
      returning id, asset_id, timestamp, extra
    ), queued as (
      insert into asset_dag_run_queue (asset_id, target_dag_id, created_at)
      select ev.asset_id, r.dag_id, ev.timestamp
      from ev join dag_schedule_asset_reference r on r.asset_id = ev.asset_id
        join dag d on d.dag_id = r.dag_id and d.is_active
      on conflict (asset_id, target_dag_id) do update
        set created_at = greatest(asset_dag_run_queue.created_at, excluded.created_at)
      returning target_dag_id
    )
    select ev.id, ev.asset_id, ${uri}::text as uri, ev.timestamp, ev.extra,
      coalesce((select array_agg(target_dag_id order by target_dag_id) from queued), '{}') as queued_for
    from ev`.execute(db);
  const row = result.rows[0];
  if (row === undefined)
    throw new UpdraftError(
      "ASSET_NOT_FOUND",
      `There is no asset "${uri}". Assets exist once a DAG file names them (in a schedule or a task's outlets); check the URI with GET /api/v1/assets.`,
      { details: { uri } },
    );
  return row;
}
