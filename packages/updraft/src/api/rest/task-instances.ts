// One task instance and what hangs off it, with Airflow 2's routes and shapes: the instance
// (unmapped, or one map index), a mapped task's instances, every try's record, and its XComs.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { getDagRun, getTaskInstance, type Database, type TaskInstanceRow } from "../../db/index.js";
import { TASK_INSTANCE_STATES } from "../../model/states.js";
import { runNotFound } from "../../services/index.js";
import { Id, Page, Text, collection, orderBy, route, sortOf, MapIndexParam, TiPath } from "./common.js";
import { iso, taskInstanceJson } from "./serialize.js";

const MappedTiPath = TiPath.extend({ map_index: MapIndexParam });
const XcomPath = TiPath.extend({ xcom_key: Id });
const MapIndexQuery = z.object({ map_index: MapIndexParam.default(-1) });
const NoteBody = z.object({ note: Text.max(10_000) }).strict();

const State = z.enum(TASK_INSTANCE_STATES).nullable();

/** A task instance as Airflow 2's API shows it (`TaskInstance`), plus the run's logical date. */
export const TaskInstanceJson = z
  .object({
    task_id: z.string(),
    task_display_name: z.string(),
    dag_id: z.string(),
    dag_run_id: z.string(),
    map_index: z.number().int(),
    state: State,
    try_number: z.number().int(),
    max_tries: z.number().int(),
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    duration: z.number().nullable(),
    queued_when: z.string().nullable(),
    scheduled_when: z.string().nullable(),
    next_retry_at: z.string().nullable(),
    hostname: z.string().nullable(),
    pid: z.number().int().nullable(),
    pool: z.string(),
    pool_slots: z.number().int(),
    queue: z.string(),
    priority_weight: z.number().int(),
    operator: z.string().nullable(),
    executor: z.string().nullable(),
    rendered_fields: z.unknown(),
    /** Why the scheduler holds it back though its trigger rule is met (e.g. depends_on_past); Updraft's addition. */
    wait_reason: z.string().nullable(),
    note: z.string().nullable(),
    /** The mapped instance's name rendered from the task's mapIndexTemplate (Airflow map_index_template). */
    rendered_map_index: z.string().nullable(),
    logical_date: z.string().nullable(),
  })
  .meta({ id: "TaskInstance" });
export const TaskInstanceCollection = collection(
  "task_instances",
  TaskInstanceJson,
  "TaskInstanceCollection",
);

/** One try of a task instance (`TaskInstanceHistory`): finished tries, then the current one. */
const TryJson = z
  .object({
    task_id: z.string(),
    dag_id: z.string(),
    dag_run_id: z.string(),
    map_index: z.number().int(),
    try_number: z.number().int(),
    state: State,
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    duration: z.number().nullable(),
    queued_when: z.string().nullable(),
    hostname: z.string().nullable(),
    pid: z.number().int().nullable(),
    pool: z.string().nullable(),
    queue: z.string().nullable(),
    operator: z.string().nullable(),
    executor: z.string().nullable(),
    max_tries: z.number().int().nullable(),
  })
  .meta({ id: "TaskInstanceTry" });
const TryCollection = collection("task_instances", TryJson, "TaskInstanceTryCollection");

const XcomEntry = z
  .object({
    key: z.string(),
    timestamp: z.string().nullable(),
    logical_date: z.string().nullable(),
    execution_date: z.string().nullable(),
    map_index: z.number().int(),
    task_id: z.string(),
    dag_id: z.string(),
    dag_run_id: z.string(),
  })
  .meta({ id: "XComCollectionItem" });
const XcomWithValue = XcomEntry.extend({ value: z.unknown() }).meta({ id: "XCom" });
const XcomCollection = collection("xcom_entries", XcomEntry, "XComCollection");
const XcomQuery = Page.extend({ map_index: MapIndexParam.optional(), xcom_key: Id.optional() });
const XcomGetQuery = MapIndexQuery.extend({
  stringify: z
    .enum(["true", "false"])
    .default("true")
    .transform((s) => s === "true"),
});

const MAPPED_ORDER = { map_index: "map_index", state: "state", start_date: "start_date" } as const;
const MappedQuery = Page.extend({
  state: z
    .union([z.enum(TASK_INSTANCE_STATES), z.array(z.enum(TASK_INSTANCE_STATES))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  order_by: orderBy(MAPPED_ORDER, "map_index"),
});

export function tiNotFound(dagId: string, runId: string, taskId: string, mapIndex: number): UpdraftError {
  const which = mapIndex === -1 ? "" : ` with map index ${mapIndex}`;
  return new UpdraftError(
    "TASK_INSTANCE_NOT_FOUND",
    `Run "${runId}" of DAG "${dagId}" has no task instance "${taskId}"${which}. GET /api/v1/dags/${encodeURIComponent(dagId)}/dagRuns/${encodeURIComponent(runId)}/taskInstances lists them.`,
  );
}

export function taskInstanceRoutes(database: Database) {
  const db = database.db;
  /** The run (for its logical date) or a 404 that names it. */
  async function runOf(dagId: string, runId: string) {
    const run = await getDagRun(db, { dagId, runId });
    if (run === undefined) throw runNotFound(dagId, runId);
    return run;
  }
  async function tiOf(dagId: string, runId: string, taskId: string, mapIndex: number) {
    const [run, ti] = await Promise.all([
      runOf(dagId, runId),
      getTaskInstance(db, { dagId, runId, taskId, mapIndex }),
    ]);
    if (ti === undefined) throw tiNotFound(dagId, runId, taskId, mapIndex);
    return { run, ti };
  }
  const withDate = (ti: TaskInstanceRow, logical: Date | null) => ({
    ...taskInstanceJson(ti),
    logical_date: iso(logical),
  });

  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["TaskInstance"];
    const base = "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";

    const one = { params: TiPath, response: { 200: TaskInstanceJson } };
    app.get(base, route("get_task_instance", "Get a task instance", tags, one), async (request) => {
      const p = request.params;
      const { run, ti } = await tiOf(p.dag_id, p.dag_run_id, p.task_id, -1);
      return withDate(ti, run.logical_date);
    });

    const mapped = { params: MappedTiPath, response: { 200: TaskInstanceJson } };
    const mappedRoute = route("get_mapped_task_instance", "Get a mapped task instance", tags, mapped);
    app.get(`${base}/:map_index`, mappedRoute, async (request) => {
      const p = request.params;
      const { run, ti } = await tiOf(p.dag_id, p.dag_run_id, p.task_id, p.map_index);
      return withDate(ti, run.logical_date);
    });

    const list = { params: TiPath, querystring: MappedQuery, response: { 200: TaskInstanceCollection } };
    const listRoute = route("get_mapped_task_instances", "List a mapped task's instances", tags, list);
    app.get(`${base}/listMapped`, listRoute, async (request) => {
      const p = request.params;
      const q = request.query;
      const run = await runOf(p.dag_id, p.dag_run_id);
      const { column, direction } = sortOf(MAPPED_ORDER, q.order_by);
      let rows = db
        .selectFrom("task_instance")
        .where("dag_id", "=", p.dag_id)
        .where("run_id", "=", p.dag_run_id)
        .where("task_id", "=", p.task_id)
        .where("map_index", ">=", 0);
      if (q.state !== undefined) rows = rows.where("state", "in", q.state);
      const [page, total] = await Promise.all([
        rows
          .selectAll()
          .orderBy(column, direction)
          .orderBy("map_index")
          .limit(q.limit)
          .offset(q.offset)
          .execute(),
        rows.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      ]);
      if (Number(total.n) === 0 && q.state === undefined) {
        const unmapped = await getTaskInstance(db, {
          dagId: p.dag_id,
          runId: p.dag_run_id,
          taskId: p.task_id,
          mapIndex: -1,
        });
        if (unmapped === undefined) throw tiNotFound(p.dag_id, p.dag_run_id, p.task_id, -1);
      }
      return {
        task_instances: page.map((ti) => withDate(ti, run.logical_date)),
        total_entries: Number(total.n),
      };
    });

    const tries = { params: TiPath, querystring: MapIndexQuery, response: { 200: TryCollection } };
    app.get(
      `${base}/tries`,
      route("get_task_instance_tries", "List a task instance's tries", tags, tries),
      async (request) => {
        const p = request.params;
        const { ti } = await tiOf(p.dag_id, p.dag_run_id, p.task_id, request.query.map_index);
        const history = await db
          .selectFrom("task_instance_history")
          .selectAll()
          .where("dag_id", "=", p.dag_id)
          .where("run_id", "=", p.dag_run_id)
          .where("task_id", "=", p.task_id)
          .where("map_index", "=", request.query.map_index)
          .orderBy("try_number")
          .execute();
        const out = history.map((h) => ({
          task_id: h.task_id,
          dag_id: h.dag_id,
          dag_run_id: h.run_id,
          map_index: h.map_index,
          try_number: h.try_number,
          state: h.state,
          start_date: iso(h.start_date),
          end_date: iso(h.end_date),
          duration: h.duration,
          queued_when: iso(h.queued_dttm),
          hostname: h.hostname,
          pid: h.pid,
          pool: h.pool,
          queue: h.queue,
          operator: h.operator,
          executor: h.executor,
          max_tries: h.max_tries,
        }));
        // The current try, while it has not ended (a finished try is already in the history).
        if (ti.try_number > 0 && !history.some((h) => h.try_number === ti.try_number)) {
          out.push({
            task_id: ti.task_id,
            dag_id: ti.dag_id,
            dag_run_id: ti.run_id,
            map_index: ti.map_index,
            try_number: ti.try_number,
            state: ti.state,
            start_date: iso(ti.start_date),
            end_date: iso(ti.end_date),
            duration: ti.duration,
            queued_when: iso(ti.queued_dttm),
            hostname: ti.hostname,
            pid: ti.pid,
            pool: ti.pool,
            queue: ti.queue,
            operator: ti.operator,
            executor: ti.executor,
            max_tries: ti.max_tries,
          });
        }
        return { task_instances: out, total_entries: out.length };
      },
    );

    // Airflow's set_task_instance_note, for an unmapped instance and for one map index.
    const setNote = async (
      p: { dag_id: string; dag_run_id: string; task_id: string },
      mapIndex: number,
      note: string,
    ) => {
      const run = await runOf(p.dag_id, p.dag_run_id);
      const updated = await db
        .updateTable("task_instance")
        .set({ note })
        .where("dag_id", "=", p.dag_id)
        .where("run_id", "=", p.dag_run_id)
        .where("task_id", "=", p.task_id)
        .where("map_index", "=", mapIndex)
        .returningAll()
        .executeTakeFirst();
      if (updated === undefined) throw tiNotFound(p.dag_id, p.dag_run_id, p.task_id, mapIndex);
      return withDate(updated, run.logical_date);
    };
    const note = { params: TiPath, body: NoteBody, response: { 200: TaskInstanceJson } };
    app.patch(
      `${base}/setNote`,
      route("set_task_instance_note", "Set a task instance's note", tags, note),
      async (request) => setNote(request.params, -1, request.body.note),
    );
    const mappedNote = { params: MappedTiPath, body: NoteBody, response: { 200: TaskInstanceJson } };
    const mappedNoteRoute = route(
      "set_mapped_task_instance_note",
      "Set a mapped task instance's note",
      tags,
      mappedNote,
    );
    app.patch(`${base}/:map_index/setNote`, mappedNoteRoute, async (request) =>
      setNote(request.params, request.params.map_index, request.body.note),
    );

    const xcomTags = ["XCom"];
    const xcoms = { params: TiPath, querystring: XcomQuery, response: { 200: XcomCollection } };
    app.get(
      `${base}/xcomEntries`,
      route("get_xcom_entries", "List a task instance's XComs", xcomTags, xcoms),
      async (request) => {
        const p = request.params;
        const q = request.query;
        const [run, anyTi] = await Promise.all([
          runOf(p.dag_id, p.dag_run_id),
          db
            .selectFrom("task_instance")
            .select("map_index")
            .where("dag_id", "=", p.dag_id)
            .where("run_id", "=", p.dag_run_id)
            .where("task_id", "=", p.task_id)
            .limit(1)
            .executeTakeFirst(),
        ]);
        // A task the run does not have is a 404, not an empty list (a typo must not look like "no XCom").
        if (anyTi === undefined) throw tiNotFound(p.dag_id, p.dag_run_id, p.task_id, -1);
        let rows = db
          .selectFrom("xcom")
          .where("dag_id", "=", p.dag_id)
          .where("run_id", "=", p.dag_run_id)
          .where("task_id", "=", p.task_id);
        if (q.map_index !== undefined) rows = rows.where("map_index", "=", q.map_index);
        if (q.xcom_key !== undefined) rows = rows.where("key", "=", q.xcom_key);
        const [page, total] = await Promise.all([
          rows
            .select(["key", "timestamp", "map_index", "task_id", "dag_id", "run_id"])
            .orderBy("map_index")
            .orderBy("key")
            .limit(q.limit)
            .offset(q.offset)
            .execute(),
          rows.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
        ]);
        return {
          xcom_entries: page.map((x) => ({
            key: x.key,
            timestamp: iso(x.timestamp),
            logical_date: iso(run.logical_date),
            execution_date: iso(run.logical_date),
            map_index: x.map_index,
            task_id: x.task_id,
            dag_id: x.dag_id,
            dag_run_id: x.run_id,
          })),
          total_entries: Number(total.n),
        };
      },
    );

    const xcom = { params: XcomPath, querystring: XcomGetQuery, response: { 200: XcomWithValue } };
    app.get(
      `${base}/xcomEntries/:xcom_key`,
      route("get_xcom_entry", "Get an XCom", xcomTags, xcom),
      async (request) => {
        const p = request.params;
        const q = request.query;
        const run = await runOf(p.dag_id, p.dag_run_id);
        const x = await db
          .selectFrom("xcom")
          .selectAll()
          .where("dag_id", "=", p.dag_id)
          .where("run_id", "=", p.dag_run_id)
          .where("task_id", "=", p.task_id)
          .where("map_index", "=", q.map_index)
          .where("key", "=", p.xcom_key)
          .executeTakeFirst();
        if (x === undefined) {
          throw new UpdraftError(
            "XCOM_NOT_FOUND",
            `Task instance "${p.task_id}" (map index ${q.map_index}) of run "${p.dag_run_id}" has no XCom "${p.xcom_key}". GET …/xcomEntries lists its XComs.`,
          );
        }
        return {
          key: x.key,
          timestamp: iso(x.timestamp),
          logical_date: iso(run.logical_date),
          execution_date: iso(run.logical_date),
          map_index: x.map_index,
          task_id: x.task_id,
          dag_id: x.dag_id,
          dag_run_id: x.run_id,
          // Airflow's default (stringify=true) is the value as text; stringify=false gives the JSON value.
          value: q.stringify ? JSON.stringify(x.value) : x.value,
        };
      },
    );
  };
}
