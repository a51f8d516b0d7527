// Assets and their events (decision 0031): Airflow 2's stable API for datasets under Airflow 3's
// name (`/datasets` → `/assets`, `dataset_*` → `asset_*`). Reads are a Viewer's; creating an
// event by hand (which queues the consumers as a producing task's success does) is an Op's.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { addAuditLog, type Database, type Executor, type JsonValue } from "../../db/index.js";
import { normalizeAssetUri } from "../../model/asset-condition.js";
import { createAssetEvent } from "../../services/index.js";
import { Id, Page, RunPath, actor, collection, orderBy, route, sortOf } from "./common.js";
import { iso } from "./serialize.js";

const json = z.record(z.string(), z.unknown());

const AssetJson = z
  .object({
    id: z.number().int(),
    uri: z.string(),
    name: z.string(),
    group: z.string(),
    extra: json,
    created_at: z.string(),
    updated_at: z.string(),
    consuming_dags: z.array(z.object({ dag_id: z.string(), created_at: z.string() })),
    producing_tasks: z.array(z.object({ dag_id: z.string(), task_id: z.string(), created_at: z.string() })),
  })
  .meta({ id: "Asset" });
const AssetCollection = collection("assets", AssetJson, "AssetCollection");

const BasicDagRunJson = z
  .object({
    dag_id: z.string(),
    run_id: z.string(),
    state: z.string(),
    logical_date: z.string().nullable(),
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    data_interval_start: z.string().nullable(),
    data_interval_end: z.string().nullable(),
  })
  .meta({ id: "BasicDAGRun" });

const AssetEventJson = z
  .object({
    id: z.number().int(),
    asset_id: z.number().int(),
    asset_uri: z.string(),
    extra: json,
    source_dag_id: z.string().nullable(),
    source_task_id: z.string().nullable(),
    source_run_id: z.string().nullable(),
    source_map_index: z.number().int(),
    timestamp: z.string(),
    created_dagruns: z.array(BasicDagRunJson),
  })
  .meta({ id: "AssetEvent" });
const AssetEventCollection = collection("asset_events", AssetEventJson, "AssetEventCollection");

const EVENT_ORDER = {
  id: "e.id",
  timestamp: "e.timestamp",
  asset_id: "e.asset_id",
  source_dag_id: "e.source_dag_id",
  source_task_id: "e.source_task_id",
  source_run_id: "e.source_run_id",
} as const;

const AssetListQuery = Page.extend({
  /** Assets whose URI contains this text (Airflow's uri_pattern). */
  uri_pattern: z.string().max(1500).optional(),
  order_by: orderBy({ id: "id", uri: "uri", name: "name", created_at: "created_at" }, "id"),
});
const EventQuery = Page.extend({
  asset_id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .optional(),
  source_dag_id: Id.optional(),
  source_task_id: Id.optional(),
  source_run_id: Id.optional(),
  source_map_index: z.coerce.number().int().min(-1).optional(),
  order_by: orderBy(EVENT_ORDER, "timestamp"),
});
const CreateEventBody = z
  .object({ asset_uri: z.string().min(1).max(1500), extra: json.optional() })
  .meta({ id: "CreateAssetEvent" });

interface EventRow {
  id: number;
  asset_id: number;
  asset_uri: string;
  extra: Record<string, unknown>;
  source_dag_id: string | null;
  source_task_id: string | null;
  source_run_id: string | null;
  source_map_index: number;
  timestamp: Date;
  created_dagruns: {
    dag_id: string;
    run_id: string;
    state: string;
    logical_date: string | null;
    start_date: string | null;
    end_date: string | null;
    data_interval_start: string | null;
    data_interval_end: string | null;
  }[];
}

/** The runs an event triggered, as JSON (dates ISO 8601 in UTC). */
const CREATED_RUNS = sql`(select coalesce(json_agg(json_build_object('dag_id', r.dag_id, 'run_id', r.run_id,
    'state', r.state, 'logical_date', ${isoSql("r.logical_date")}, 'start_date', ${isoSql("r.start_date")},
    'end_date', ${isoSql("r.end_date")}, 'data_interval_start', ${isoSql("r.data_interval_start")},
    'data_interval_end', ${isoSql("r.data_interval_end")}) order by r.id), '[]'::json)
  from dag_run_asset_event l join dag_run r on r.id = l.dag_run_id where l.event_id = e.id)`;

function isoSql(column: string) {
  return sql`to_char(${sql.raw(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`;
}

function eventJson(r: EventRow) {
  return {
    id: r.id,
    asset_id: r.asset_id,
    asset_uri: r.asset_uri,
    extra: r.extra,
    source_dag_id: r.source_dag_id,
    source_task_id: r.source_task_id,
    source_run_id: r.source_run_id,
    source_map_index: r.source_map_index,
    timestamp: iso(r.timestamp) ?? "",
    created_dagruns: r.created_dagruns,
  };
}

async function assetJson(
  db: Executor,
  rows: {
    id: number;
    uri: string;
    name: string;
    group: string;
    extra: unknown;
    created_at: Date;
    updated_at: Date;
  }[],
) {
  const ids = rows.map((r) => r.id);
  const [consumers, producers] =
    ids.length === 0
      ? [[], []]
      : await Promise.all([
          db
            .selectFrom("dag_schedule_asset_reference")
            .select(["asset_id", "dag_id", "created_at"])
            .where("asset_id", "in", ids)
            .orderBy("dag_id")
            .execute(),
          db
            .selectFrom("task_outlet_asset_reference")
            .select(["asset_id", "dag_id", "task_id", "created_at"])
            .where("asset_id", "in", ids)
            .orderBy("dag_id")
            .orderBy("task_id")
            .execute(),
        ]);
  return rows.map((r) => ({
    id: r.id,
    uri: r.uri,
    name: r.name,
    group: r.group,
    extra: r.extra as Record<string, unknown>,
    created_at: iso(r.created_at) ?? "",
    updated_at: iso(r.updated_at) ?? "",
    consuming_dags: consumers
      .filter((c) => c.asset_id === r.id)
      .map((c) => ({ dag_id: c.dag_id, created_at: iso(c.created_at) ?? "" })),
    producing_tasks: producers
      .filter((p) => p.asset_id === r.id)
      .map((p) => ({ dag_id: p.dag_id, task_id: p.task_id, created_at: iso(p.created_at) ?? "" })),
  }));
}

function uriOf(text: string): string {
  try {
    return normalizeAssetUri(text);
  } catch {
    // Not a valid URI: no asset has it (a 404 that says so, not a 400 about URI syntax).
    return text;
  }
}

export function assetRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Asset"];

    app.get(
      "/assets",
      route("get_assets", "List assets", tags, {
        querystring: AssetListQuery,
        response: { 200: AssetCollection },
      }),
      async (request) => {
        const q = request.query;
        const { column, direction } = sortOf(
          { id: "id", uri: "uri", name: "name", created_at: "created_at" } as const,
          q.order_by,
        );
        let base = db.selectFrom("asset");
        if (q.uri_pattern !== undefined && q.uri_pattern !== "")
          base = base.where(sql<boolean>`strpos(uri, ${q.uri_pattern}) > 0`);
        const [rows, total] = await Promise.all([
          base.selectAll().orderBy(column, direction).orderBy("id").limit(q.limit).offset(q.offset).execute(),
          base.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
        ]);
        return { assets: await assetJson(db, rows), total_entries: Number(total.n) };
      },
    );

    app.get(
      "/assets/events",
      route("get_asset_events", "List asset events", tags, {
        querystring: EventQuery,
        response: { 200: AssetEventCollection },
      }),
      async (request) => {
        const q = request.query;
        const conds = [sql`true`];
        if (q.asset_id !== undefined) conds.push(sql`e.asset_id = ${q.asset_id}`);
        if (q.source_dag_id !== undefined) conds.push(sql`e.source_dag_id = ${q.source_dag_id}`);
        if (q.source_task_id !== undefined) conds.push(sql`e.source_task_id = ${q.source_task_id}`);
        if (q.source_run_id !== undefined) conds.push(sql`e.source_run_id = ${q.source_run_id}`);
        if (q.source_map_index !== undefined) conds.push(sql`e.source_map_index = ${q.source_map_index}`);
        const where = sql.join(conds, sql` and `);
        const { column, direction } = sortOf(EVENT_ORDER, q.order_by);
        const dir = sql.raw(direction);
        const [rows, total] = await Promise.all([
          sql<EventRow>`
            select e.id, e.asset_id, a.uri as asset_uri, e.extra, e.source_dag_id, e.source_task_id,
              e.source_run_id, e.source_map_index, e.timestamp, ${CREATED_RUNS} as created_dagruns
            from asset_event e join asset a on a.id = e.asset_id
            where ${where}
            order by ${sql.raw(column)} ${dir}, e.id ${dir}
            limit ${q.limit} offset ${q.offset}`.execute(db),
          sql<{ n: number }>`select count(*)::int as n from asset_event e where ${where}`.execute(db),
        ]);
        return { asset_events: rows.rows.map(eventJson), total_entries: total.rows[0]?.n ?? 0 };
      },
    );

    app.post(
      "/assets/events",
      route("create_asset_event", "Create an asset event (queues the DAGs scheduled on it)", tags, {
        body: CreateEventBody,
        response: { 200: AssetEventJson },
      }),
      async (request) => {
        const created = await createAssetEvent(db, {
          uri: request.body.asset_uri,
          extra: (request.body.extra ?? {}) as Record<string, JsonValue>,
        });
        await addAuditLog(db, {
          event: "asset_event.create",
          owner: actor(request),
          extra: JSON.stringify({ asset_uri: created.uri, queued_for: created.queued_for }),
        });
        return eventJson({
          id: created.id,
          asset_id: created.asset_id,
          asset_uri: created.uri,
          extra: created.extra,
          source_dag_id: null,
          source_task_id: null,
          source_run_id: null,
          source_map_index: -1,
          timestamp: created.timestamp,
          created_dagruns: [],
        });
      },
    );

    app.get(
      "/assets/:uri",
      route("get_asset", "Get an asset by its URI (url-encoded)", tags, {
        params: z.object({ uri: z.string().min(1).max(1500) }),
        response: { 200: AssetJson },
      }),
      async (request) => {
        const uri = uriOf(request.params.uri);
        const rows = await db.selectFrom("asset").selectAll().where("uri", "=", uri).execute();
        const [one] = await assetJson(db, rows);
        if (one === undefined)
          throw new UpdraftError(
            "ASSET_NOT_FOUND",
            `There is no asset "${uri}". List the assets with GET /api/v1/assets; url-encode the URI in the path.`,
            { details: { uri } },
          );
        return one;
      },
    );

    app.get(
      "/dags/:dag_id/dagRuns/:dag_run_id/upstreamAssetEvents",
      route("get_upstream_asset_events", "The asset events that triggered a DAG run", ["DAGRun"], {
        params: RunPath,
        response: { 200: AssetEventCollection },
      }),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        const run = await db
          .selectFrom("dag_run")
          .select("id")
          .where("dag_id", "=", dag_id)
          .where("run_id", "=", dag_run_id)
          .executeTakeFirst();
        if (run === undefined)
          throw new UpdraftError(
            "DAG_RUN_NOT_FOUND",
            `DAG "${dag_id}" has no run "${dag_run_id}". List its runs with GET /api/v1/dags/${dag_id}/dagRuns.`,
          );
        const rows = await sql<EventRow>`
          select e.id, e.asset_id, a.uri as asset_uri, e.extra, e.source_dag_id, e.source_task_id,
            e.source_run_id, e.source_map_index, e.timestamp, ${CREATED_RUNS} as created_dagruns
          from dag_run_asset_event l join asset_event e on e.id = l.event_id join asset a on a.id = e.asset_id
          where l.dag_run_id = ${run.id}
          order by e.timestamp, e.id`.execute(db);
        return { asset_events: rows.rows.map(eventJson), total_entries: rows.rows.length };
      },
    );
  };
}
