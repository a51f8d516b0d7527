// DAGs with Airflow 2's routes and shapes: list (tags, id pattern, active, paused, order), get,
// pause/unpause one or many, details (the serialized DAG's settings), and its tasks.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import {
  addAuditLog,
  getAssetSchedules,
  getDag,
  type Database,
  type AssetSchedule,
  type DagRow,
  type Executor,
} from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import { describeSchedule } from "../../model/asset-condition.js";
import type { SerializedTask } from "../../model/serialized-dag.js";
import { DAG_RUN_STATES } from "../../model/states.js";
import { dagNotFound, loadDag, setDagPaused } from "../../services/index.js";
import { DagPath, Id, Page, collection, orderBy, route, sortOf, actor } from "./common.js";
import { dagJson as dagRowJson } from "./serialize.js";
import type { FileTokens } from "../file-token.js";

const BoolParam = z.enum(["true", "false"]).transform((s) => s === "true");
const Tags = z
  .union([Id, z.array(Id).max(100)])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .optional();
const DAG_ORDER = {
  dag_id: "dag_id",
  next_dagrun: "next_dagrun",
  last_parsed_time: "last_parsed_time",
} as const;
const Filters = {
  tags: Tags,
  /** Airflow's dag_id_pattern: a substring of the DAG id, case-insensitive (SQL ILIKE %pattern%). */
  dag_id_pattern: z.string().max(250).optional(),
  only_active: BoolParam.default(true),
  paused: BoolParam.optional(),
};
const ListQuery = Page.extend({
  ...Filters,
  /** Airflow 3's filter: DAGs whose latest run (by run_after) is in this state (the UI's "failed"). */
  last_dag_run_state: z.enum(DAG_RUN_STATES).optional(),
  order_by: orderBy(DAG_ORDER, "dag_id"),
});
/** PATCH /dags changes many DAGs: Airflow requires a dag_id_pattern so that "all" is said on purpose. */
const PatchManyQuery = Page.extend({
  ...Filters,
  dag_id_pattern: z.string().min(1).max(250),
  update_mask: z.literal("is_paused").optional(),
});
const PatchQuery = z.object({ update_mask: z.literal("is_paused").optional() });
const PatchBody = z.object({ is_paused: z.boolean() }).strict();
const TaskPath = DagPath.extend({ task_id: Id });
const TasksQuery = z.object({ order_by: z.enum(["task_id", "-task_id"]).default("task_id") });

export const DagJson = z
  .object({
    dag_id: z.string(),
    dag_display_name: z.string(),
    is_paused: z.boolean(),
    is_active: z.boolean(),
    last_parsed_time: z.string().nullable(),
    fileloc: z.string().nullable(),
    /** Signed name of the DAG file for GET /dagSources/{file_token} (null without a fileloc). */
    file_token: z.string().nullable(),
    owners: z.array(z.string()),
    description: z.string().nullable(),
    timetable_summary: z.string().nullable(),
    /** The schedule in words; for a DAG scheduled on assets, its condition (`Asset: a & b`) as `dags list` prints it. */
    timetable_description: z.string().nullable(),
    tags: z.array(z.object({ name: z.string() })),
    max_active_tasks: z.number().int().nullable(),
    max_active_runs: z.number().int().nullable(),
    has_import_errors: z.boolean(),
    next_dagrun: z.string().nullable(),
    next_dagrun_data_interval_start: z.string().nullable(),
    next_dagrun_data_interval_end: z.string().nullable(),
    next_dagrun_create_after: z.string().nullable(),
  })
  .meta({ id: "DAG" });
const DagCollection = collection("dags", DagJson, "DAGCollection");

const DagDetail = DagJson.extend({
  schedule: z.union([z.string(), z.number()]).nullable(),
  timezone: z.string().nullable(),
  catchup: z.boolean(),
  start_date: z.string().nullable(),
  end_date: z.string().nullable(),
  dag_run_timeout_ms: z.number().nullable(),
  doc_md: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  is_paused_upon_creation: z.boolean().nullable(),
  render_template_as_native_obj: z.boolean(),
  fail_stop: z.boolean(),
  max_consecutive_failed_dag_runs: z.number().int().nullable(),
  task_groups: z.array(z.record(z.string(), z.unknown())),
  /** Each task as serialized (every option, snake_case); `/tasks` gives Airflow's Task shape. */
  tasks: z.array(z.record(z.string(), z.unknown())),
  dag_hash: z.string(),
  /**
   * Airflow 3's asset_expression (2.9's dataset_expression): the asset condition the DAG is
   * scheduled on, as a tree of {type: "asset", uri} and {type: "all" | "any", objects}; null for a
   * DAG scheduled on time only.
   */
  asset_expression: z.record(z.string(), z.unknown()).nullable(),
}).meta({ id: "DAGDetail" });

/** A task as Airflow 2's API shows it (`Task`), from the serialized DAG. */
const TaskJson = z
  .object({
    task_id: z.string(),
    task_display_name: z.string(),
    class_ref: z.object({ class_name: z.string(), module_path: z.string().nullable() }),
    owner: z.string(),
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    trigger_rule: z.string(),
    depends_on_past: z.boolean(),
    wait_for_downstream: z.boolean(),
    retries: z.number().int(),
    queue: z.string(),
    pool: z.string(),
    pool_slots: z.number().int(),
    execution_timeout: z.object({ __type: z.literal("TimeDelta"), seconds: z.number() }).nullable(),
    retry_delay: z.object({ __type: z.literal("TimeDelta"), seconds: z.number() }).nullable(),
    retry_exponential_backoff: z.boolean(),
    priority_weight: z.number().int(),
    weight_rule: z.string(),
    template_fields: z.array(z.string()),
    downstream_task_ids: z.array(z.string()),
    doc_md: z.string().nullable(),
    is_mapped: z.boolean(),
    is_setup: z.boolean(),
    is_teardown: z.boolean(),
    task_group_id: z.string().nullable(),
  })
  .meta({ id: "Task" });
const TaskCollection = z
  .object({ tasks: z.array(TaskJson), total_entries: z.number().int() })
  .meta({ id: "TaskCollection" });

const delta = (ms: number | null) =>
  ms === null ? null : { __type: "TimeDelta" as const, seconds: ms / 1000 };

function taskJson(t: SerializedTask) {
  return {
    task_id: t.task_id,
    task_display_name: t.task_id,
    class_ref: { class_name: t.operator, module_path: null },
    owner: t.owner,
    start_date: t.start_date,
    end_date: t.end_date,
    trigger_rule: t.trigger_rule,
    depends_on_past: t.depends_on_past,
    wait_for_downstream: t.wait_for_downstream,
    retries: t.retries,
    queue: t.queue,
    pool: t.pool,
    pool_slots: t.pool_slots,
    execution_timeout: delta(t.execution_timeout_ms),
    retry_delay: delta(t.retry_delay_ms),
    retry_exponential_backoff: t.retry_exponential_backoff,
    priority_weight: t.priority_weight,
    weight_rule: t.weight_rule,
    template_fields: t.template_fields,
    downstream_task_ids: t.downstream_task_ids,
    doc_md: t.doc_md,
    is_mapped: t.expand !== null,
    is_setup: t.is_setup,
    is_teardown: t.is_teardown,
    task_group_id: t.task_group_id,
  };
}

type DagFilters = {
  tags?: string[] | undefined;
  dag_id_pattern?: string | undefined;
  only_active: boolean;
  paused?: boolean | undefined;
  last_dag_run_state?: string | undefined;
};

/** The DAGs a list or a PATCH of many selects, with Airflow's filters. */
function selectDags(db: Executor, f: DagFilters) {
  let q = db.selectFrom("dag");
  if (f.paused !== undefined) q = q.where("is_paused", "=", f.paused);
  if (f.only_active) q = q.where("is_active", "=", true);
  if (f.dag_id_pattern !== undefined) {
    // The pattern is a substring, not a LIKE pattern: its own % and _ match themselves.
    const escaped = f.dag_id_pattern.replace(/[\\%_]/g, (c) => `\\${c}`);
    q = q.where("dag_id", "ilike", `%${escaped}%`);
  }
  if (f.last_dag_run_state !== undefined) {
    const latest = sql<string>`(SELECT r.state FROM dag_run r WHERE r.dag_id = dag.dag_id ORDER BY r.run_after DESC, r.id DESC LIMIT 1)`;
    q = q.where(latest, "=", f.last_dag_run_state);
  }
  const tags = f.tags;
  if (tags !== undefined && tags.length > 0) {
    q = q.where(sql<boolean>`tags ?| ${sql.val(tags)}::text[]`);
  }
  return q;
}

async function page(db: Executor, f: DagFilters & { limit: number; offset: number; order_by?: string }) {
  const order = f.order_by ?? "dag_id";
  const { column, direction } = sortOf(DAG_ORDER, order);
  const q = selectDags(db, f);
  const [rows, total] = await Promise.all([
    q
      .selectAll()
      .orderBy(column, direction)
      .orderBy("dag_id", direction)
      .limit(f.limit)
      .offset(f.offset)
      .execute(),
    q.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export function dagRoutes(database: Database, events: EngineEvents | null, tokens: FileTokens) {
  const db = database.db;
  /**
   * A DAG as the API shows it, with the signed file_token of its file; a DAG scheduled on assets
   * is described by its condition (the dag table holds only the summary "Asset").
   */
  const dagJson = (row: DagRow, assets: ReadonlyMap<string, AssetSchedule>) => {
    const a = assets.get(row.dag_id);
    return {
      ...dagRowJson(row),
      ...(a === undefined ? {} : { timetable_description: describeSchedule(a.schedule, a.condition) }),
      file_token: row.fileloc === null ? null : tokens.sign(row.fileloc),
    };
  };
  /** The asset schedules of those of `rows` scheduled on assets, in one query. */
  const assetSchedules = (rows: readonly DagRow[]) =>
    getAssetSchedules(
      db,
      rows.filter((r) => r.timetable_summary?.startsWith("Asset") === true).map((r) => r.dag_id),
    );
  async function dagsJson(rows: readonly DagRow[]) {
    const assets = await assetSchedules(rows);
    return rows.map((row) => dagJson(row, assets));
  }
  const oneDagJson = async (row: DagRow) => dagJson(row, await assetSchedules([row]));
  async function mustHaveDag(dagId: string): Promise<DagRow> {
    const row = await getDag(db, dagId);
    if (row === undefined) throw dagNotFound(dagId);
    return row;
  }
  async function plan(dagId: string) {
    const dag = await loadDag(db, dagId);
    if (dag === undefined) throw dagNotFound(dagId);
    return dag;
  }
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["DAG"];

    const list = { querystring: ListQuery, response: { 200: DagCollection } };
    app.get("/dags", route("get_dags", "List DAGs", tags, list), async (request) => {
      const { rows, total } = await page(db, request.query);
      return { dags: await dagsJson(rows), total_entries: total };
    });

    const patchMany = { querystring: PatchManyQuery, body: PatchBody, response: { 200: DagCollection } };
    app.patch(
      "/dags",
      route("patch_dags", "Pause or unpause the DAGs a pattern selects", tags, patchMany),
      async (request) => {
        const { rows } = await page(db, request.query);
        const changed: DagRow[] = [];
        for (const row of rows) {
          changed.push(await setDagPaused(db, row.dag_id, request.body.is_paused, { events }));
          await addAuditLog(db, {
            event: request.body.is_paused ? "paused" : "unpaused",
            dagId: row.dag_id,
            owner: actor(request),
          });
        }
        return { dags: await dagsJson(changed), total_entries: changed.length };
      },
    );

    const one = { params: DagPath, response: { 200: DagJson } };
    app.get("/dags/:dag_id", route("get_dag", "Get a DAG", tags, one), async (request) =>
      oneDagJson(await mustHaveDag(request.params.dag_id)),
    );

    const patch = { params: DagPath, querystring: PatchQuery, body: PatchBody, response: { 200: DagJson } };
    app.patch("/dags/:dag_id", route("patch_dag", "Pause or unpause a DAG", tags, patch), async (request) => {
      const { dag_id } = request.params;
      const row = await setDagPaused(db, dag_id, request.body.is_paused, { events });
      await addAuditLog(db, {
        event: request.body.is_paused ? "paused" : "unpaused",
        dagId: dag_id,
        owner: actor(request),
      });
      return oneDagJson(row);
    });

    const details = { params: DagPath, response: { 200: DagDetail } };
    app.get(
      "/dags/:dag_id/details",
      route("get_dag_details", "Get a DAG's settings and tasks", tags, details),
      async (request) => {
        const { dag_id } = request.params;
        const row = await mustHaveDag(dag_id);
        const dag = await plan(dag_id);
        const s = dag.dag;
        return {
          ...(await oneDagJson(row)),
          schedule: s.schedule,
          timezone: s.timezone,
          catchup: s.catchup,
          start_date: s.start_date,
          end_date: s.end_date,
          dag_run_timeout_ms: s.dagrun_timeout_ms,
          doc_md: s.doc_md,
          params: s.params,
          is_paused_upon_creation: s.is_paused_upon_creation,
          render_template_as_native_obj: s.render_template_as_native_obj ?? false,
          fail_stop: s.fail_stop,
          max_consecutive_failed_dag_runs: s.max_consecutive_failed_dag_runs,
          task_groups: s.task_groups,
          tasks: s.tasks,
          dag_hash: dag.hash,
          asset_expression: s.asset_condition ?? null,
        };
      },
    );

    const taskTags = ["Task"];
    const tasks = { params: DagPath, querystring: TasksQuery, response: { 200: TaskCollection } };
    app.get(
      "/dags/:dag_id/tasks",
      route("get_tasks", "List a DAG's tasks", taskTags, tasks),
      async (request) => {
        const dag = await plan(request.params.dag_id);
        const sorted = [...dag.dag.tasks].sort((a, b) => a.task_id.localeCompare(b.task_id));
        if (request.query.order_by === "-task_id") sorted.reverse();
        return { tasks: sorted.map(taskJson), total_entries: sorted.length };
      },
    );

    const task = { params: TaskPath, response: { 200: TaskJson } };
    app.get(
      "/dags/:dag_id/tasks/:task_id",
      route("get_task", "Get a task", taskTags, task),
      async (request) => {
        const { dag_id, task_id } = request.params;
        const found = (await plan(dag_id)).dag.tasks.find((t) => t.task_id === task_id);
        if (found === undefined) {
          throw new UpdraftError(
            "TASK_NOT_FOUND",
            `DAG "${dag_id}" has no task "${task_id}". GET /api/v1/dags/${encodeURIComponent(dag_id)}/tasks lists them.`,
          );
        }
        return taskJson(found);
      },
    );
  };
}
