// The assets a DAG names, written by the DAG processor (decision 0031): the asset rows (name,
// group, extra as the DAG file says), which assets schedule the DAG, which tasks update which.
import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import type { AssetRef } from "../model/asset-condition.js";
import type { SerializedDag } from "../model/serialized-dag.js";

/** Upserts the assets by URI (the last definition parsed wins) and returns their ids by URI. */
export async function upsertAssets(db: Executor, assets: readonly AssetRef[]): Promise<Map<string, number>> {
  const byUri = new Map<string, AssetRef>();
  for (const a of assets) byUri.set(a.uri, a);
  if (byUri.size === 0) return new Map();
  const rows = await sql<{ id: number; uri: string }>`
    insert into asset (uri, name, "group", extra)
    select x.uri, x.name, x."group", x.extra
    from jsonb_to_recordset(${JSON.stringify([...byUri.values()])}::jsonb)
      as x(uri text, name text, "group" text, extra jsonb)
    order by x.uri
    on conflict (uri) do update set name = excluded.name, "group" = excluded."group", extra = excluded.extra,
      updated_at = case when (asset.name, asset."group", asset.extra)
          is distinct from (excluded.name, excluded."group", excluded.extra) then now() else asset.updated_at end
    returning id, uri`.execute(db);
  return new Map(rows.rows.map((r) => [r.uri, r.id]));
}

/** Rewrites the DAG's schedule and outlet references from its serialized form. */
export async function syncAssetReferences(db: Executor, dag: SerializedDag): Promise<void> {
  const outlets = dag.tasks.flatMap((t) => (t.outlets ?? []).map((a) => ({ task_id: t.task_id, asset: a })));
  const all = [
    ...(dag.schedule_assets ?? []),
    ...outlets.map((o) => o.asset),
    ...dag.tasks.flatMap((t) => t.inlets ?? []),
  ];
  const ids = await upsertAssets(db, all);
  await db.deleteFrom("dag_schedule_asset_reference").where("dag_id", "=", dag.dag_id).execute();
  await db.deleteFrom("task_outlet_asset_reference").where("dag_id", "=", dag.dag_id).execute();
  const scheduled = [...new Set((dag.schedule_assets ?? []).map((a) => ids.get(a.uri)))].filter(
    (id): id is number => id !== undefined,
  );
  if (scheduled.length > 0)
    await db
      .insertInto("dag_schedule_asset_reference")
      .values(scheduled.map((asset_id) => ({ asset_id, dag_id: dag.dag_id })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  const produced = outlets
    .map((o) => ({ asset_id: ids.get(o.asset.uri), dag_id: dag.dag_id, task_id: o.task_id }))
    .filter((r): r is { asset_id: number; dag_id: string; task_id: string } => r.asset_id !== undefined);
  if (produced.length > 0)
    await db
      .insertInto("task_outlet_asset_reference")
      .values(produced)
      .onConflict((oc) => oc.doNothing())
      .execute();
}
