// The UI's Calendar: how a DAG's runs ended, counted per day (or hour) and state in SQL, so that a
// year of runs is a few hundred numbers instead of thousands of rows. Days are UTC days of the
// runs' logical dates, as Airflow's calendar view.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { getDag, type Database } from "../../db/index.js";
import { DAG_RUN_STATES, type DagRunState } from "../../model/states.js";
import { dagNotFound } from "../../services/index.js";
import { DagPath, DateTime, route } from "./common.js";

const DAY_MS = 86_400_000;
/** At most this many days in one request: a calendar of more is paged by the client. */
const MAX_DAYS = 3 * 366;

const CalendarQuery = z.object({
  /** First instant counted (default: 365 days before `logical_date_lte`). */
  logical_date_gte: DateTime.optional(),
  /** Last instant counted (default: now). */
  logical_date_lte: DateTime.optional(),
  granularity: z.enum(["daily", "hourly"]).default("daily"),
});

const CalendarData = z
  .object({
    total_entries: z.number().int(),
    dag_runs: z.array(
      z.object({
        /** The start of the UTC day (or hour), ISO 8601. */
        date: z.string(),
        state: z.enum(DAG_RUN_STATES),
        count: z.number().int(),
      }),
    ),
  })
  .meta({ id: "CalendarData" });

export function calendarRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { params: DagPath, querystring: CalendarQuery, response: { 200: CalendarData } };
    app.get(
      "/ui/calendar/:dag_id",
      route("get_calendar", "A DAG's runs counted per day and state", ["UI"], schema),
      async (request) => {
        const { dag_id } = request.params;
        const q = request.query;
        const lte = q.logical_date_lte === undefined ? new Date() : new Date(q.logical_date_lte);
        const gte =
          q.logical_date_gte === undefined
            ? new Date(lte.getTime() - 365 * DAY_MS)
            : new Date(q.logical_date_gte);
        if (gte > lte || lte.getTime() - gte.getTime() > MAX_DAYS * DAY_MS)
          throw new UpdraftError(
            "PARAMETER_INVALID",
            `logical_date_gte must be before logical_date_lte and at most ${MAX_DAYS} days before it; ask for a longer calendar in parts.`,
          );
        if ((await getDag(db, dag_id)) === undefined) throw dagNotFound(dag_id);
        const unit = q.granularity === "hourly" ? "hour" : "day";
        // A literal (one of two fixed words), so that the SELECT and GROUP BY expressions are equal.
        const bucket = sql<Date>`date_trunc(${sql.lit(unit)}, logical_date AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
        const rows = await db
          .selectFrom("dag_run")
          .where("dag_id", "=", dag_id)
          .where("logical_date", ">=", gte)
          .where("logical_date", "<=", lte)
          .select([bucket.as("bucket"), "state", (eb) => eb.fn.countAll<number>().as("n")])
          .groupBy([bucket, "state"])
          .orderBy(bucket)
          .orderBy("state")
          .execute();
        const counts = rows.map((r) => ({
          date: new Date(r.bucket).toISOString(),
          state: r.state as DagRunState,
          count: Number(r.n),
        }));
        return { total_entries: counts.reduce((n, c) => n + c.count, 0), dag_runs: counts };
      },
    );
  };
}
