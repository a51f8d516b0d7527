// The audit log as Airflow 2's `eventLogs`: every change made through the API, the CLI and the
// scheduler (triggers, marks, clears, pauses, variable and connection edits), with who made it.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import type { Database, LogRow } from "../../db/index.js";
import { DateTime, Id, Page, collection, orderBy, route, sortOf } from "./common.js";
import { iso } from "./serialize.js";

const EventLog = z
  .object({
    event_log_id: z.number().int(),
    when: z.string().nullable(),
    dag_id: z.string().nullable(),
    task_id: z.string().nullable(),
    run_id: z.string().nullable(),
    map_index: z.number().int().nullable(),
    try_number: z.number().int().nullable(),
    event: z.string(),
    owner: z.string().nullable(),
    extra: z.string().nullable(),
  })
  .meta({ id: "EventLog" });
const EventLogCollection = collection("event_logs", EventLog, "EventLogCollection");

const csv = z
  .string()
  .max(2000)
  .transform((s) => s.split(",").filter((x) => x !== ""));
const ORDER = { event_log_id: "id", when: "dttm", event: "event", dag_id: "dag_id", owner: "owner" } as const;
const ListQuery = Page.extend({
  dag_id: Id.optional(),
  task_id: Id.optional(),
  run_id: Id.optional(),
  event: z.string().max(250).optional(),
  owner: z.string().max(250).optional(),
  before: DateTime.optional(),
  after: DateTime.optional(),
  /** Airflow's included_events / excluded_events: comma-separated event names. */
  included_events: csv.optional(),
  excluded_events: csv.optional(),
  order_by: orderBy(ORDER, "event_log_id"),
});
const IdPath = z.object({
  event_log_id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});

function eventLogJson(r: LogRow) {
  return {
    event_log_id: r.id,
    when: iso(r.dttm),
    dag_id: r.dag_id,
    task_id: r.task_id,
    run_id: r.run_id,
    map_index: r.map_index,
    try_number: r.try_number,
    event: r.event,
    owner: r.owner,
    extra: r.extra,
  };
}

export function eventLogRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["EventLog"];
    const list = { querystring: ListQuery, response: { 200: EventLogCollection } };
    app.get("/eventLogs", route("get_event_logs", "List audit log entries", tags, list), async (request) => {
      const q = request.query;
      let sel = db.selectFrom("log");
      for (const k of ["dag_id", "task_id", "run_id", "event", "owner"] as const) {
        const v = q[k];
        if (v !== undefined) sel = sel.where(k, "=", v);
      }
      if (q.before !== undefined) sel = sel.where("dttm", "<", new Date(q.before));
      if (q.after !== undefined) sel = sel.where("dttm", ">", new Date(q.after));
      if (q.included_events !== undefined && q.included_events.length > 0)
        sel = sel.where("event", "in", q.included_events);
      if (q.excluded_events !== undefined && q.excluded_events.length > 0)
        sel = sel.where("event", "not in", q.excluded_events);
      const { column, direction } = sortOf(ORDER, q.order_by);
      const [rows, total] = await Promise.all([
        sel
          .selectAll()
          .orderBy(column, direction)
          .orderBy("id", direction)
          .limit(q.limit)
          .offset(q.offset)
          .execute(),
        sel.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
      ]);
      return { event_logs: rows.map(eventLogJson), total_entries: Number(total.n) };
    });

    const one = { params: IdPath, response: { 200: EventLog } };
    app.get(
      "/eventLogs/:event_log_id",
      route("get_event_log", "Get an audit log entry", tags, one),
      async (request) => {
        const row = await db
          .selectFrom("log")
          .selectAll()
          .where("id", "=", request.params.event_log_id)
          .executeTakeFirst();
        if (row === undefined) {
          throw new UpdraftError(
            "EVENT_LOG_NOT_FOUND",
            `There is no event log entry ${request.params.event_log_id}. GET /api/v1/eventLogs lists them.`,
          );
        }
        return eventLogJson(row);
      },
    );
  };
}
