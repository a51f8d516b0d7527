// The UI's Durations charts in one call: a DAG's last N runs (oldest first, so a chart's x axis
// reads left to right) and, per task, arrays aligned with those runs: how long the task ran, when
// it landed after the end of the run's data interval, and how many tries it took. Grouped in SQL
// per run and task (a mapped task's instances count as one: earliest start to latest end), so 100
// runs of a 100-task DAG are ~30,000 numbers instead of 10,000 task-instance rows. The runs come
// from the same (dag_id, logical_date) order as the Grid's, so it stays fast at 10,000 runs.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { getDag, type Database } from "../../db/index.js";
import { DAG_RUN_STATES } from "../../model/states.js";
import { dagNotFound } from "../../services/index.js";
import { DagPath, route } from "./common.js";
import { iso } from "./serialize.js";

/** The most runs one request charts: more would not be readable as points on a screen anyway. */
export const MAX_DURATION_RUNS = 1000;

const DurationsQuery = z.object({
  /** How many of the newest runs (default 100, at most 1000). */
  limit: z.coerce.number().int().min(1).default(100),
});

const Seconds = z.array(z.number().nullable());

const DurationsData = z
  .object({
    dag_id: z.string(),
    /** The runs charted, oldest first; every array below has one entry per run, in this order. */
    dag_runs: z.array(
      z.object({
        dag_run_id: z.string(),
        state: z.enum(DAG_RUN_STATES),
        run_type: z.string(),
        logical_date: z.string().nullable(),
        data_interval_end: z.string().nullable(),
        start_date: z.string().nullable(),
        end_date: z.string().nullable(),
        /** Seconds from start to end; null while the run has not started or ended. */
        duration: z.number().nullable(),
      }),
    ),
    /** How many runs the DAG has in all. */
    total_entries: z.number().int(),
    tasks: z.array(
      z.object({
        task_id: z.string(),
        /** Seconds the task ran in each run (null: it has not both started and ended). */
        duration: Seconds,
        /** Seconds from the end of the run's data interval to the task's end (null: unknown). */
        landing: Seconds,
        /** Tries the task took in each run (0: never tried; null: no task instance). */
        tries: z.array(z.number().int().nullable()),
      }),
    ),
  })
  .meta({ id: "DurationsData" });

interface TaskRow {
  run_id: string;
  task_id: string;
  tries: number | string | null;
  /** Seconds from the earliest start to the latest end of the run's instances of the task. */
  duration: number | null;
  /** The latest end, in seconds since 1970. */
  end_s: number | null;
}

const seconds = (from: Date | null, to: Date | null): number | null =>
  from === null || to === null ? null : (new Date(to).getTime() - new Date(from).getTime()) / 1000;

export function durationRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { params: DagPath, querystring: DurationsQuery, response: { 200: DurationsData } };
    app.get(
      "/ui/durations/:dag_id",
      route(
        "get_durations",
        "Run and task durations, landing times and tries of a DAG's last runs",
        ["UI"],
        schema,
      ),
      async (request) => {
        const { dag_id } = request.params;
        const limit = Math.min(request.query.limit, MAX_DURATION_RUNS);
        if ((await getDag(db, dag_id)) === undefined) throw dagNotFound(dag_id);
        const runs = db.selectFrom("dag_run").where("dag_id", "=", dag_id);
        const [newest, total] = await Promise.all([
          runs
            .select([
              "run_id",
              "state",
              "run_type",
              "logical_date",
              "data_interval_end",
              "start_date",
              "end_date",
            ])
            .orderBy("logical_date", (o) => o.desc().nullsFirst())
            .orderBy("id", "desc")
            .limit(limit)
            .execute(),
          runs.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
        ]);
        const rows = newest.reverse();
        const runIds = rows.map((r) => r.run_id);
        const groups: TaskRow[] =
          runIds.length === 0
            ? []
            : ((await db
                .selectFrom("task_instance")
                .where("dag_id", "=", dag_id)
                .where("run_id", "in", runIds)
                .select([
                  "run_id",
                  "task_id",
                  (eb) => eb.fn.max("try_number").as("tries"),
                  // Seconds computed in SQL: 10,000 numbers, not 20,000 timestamps parsed into Dates.
                  sql<number | null>`extract(epoch from max(end_date) - min(start_date))::float8`.as(
                    "duration",
                  ),
                  sql<number | null>`extract(epoch from max(end_date))::float8`.as("end_s"),
                ])
                .groupBy(["run_id", "task_id"])
                .orderBy("task_id")
                .execute()) as TaskRow[]);
        const column = new Map(runIds.map((id, i) => [id, i]));
        const intervalEnds = rows.map((r) =>
          r.data_interval_end === null ? null : new Date(r.data_interval_end).getTime() / 1000,
        );
        const tasks = new Map<
          string,
          {
            task_id: string;
            duration: (number | null)[];
            landing: (number | null)[];
            tries: (number | null)[];
          }
        >();
        for (const g of groups) {
          const i = column.get(g.run_id);
          if (i === undefined) continue;
          let t = tasks.get(g.task_id);
          if (t === undefined) {
            const empty = () => runIds.map(() => null);
            t = { task_id: g.task_id, duration: empty(), landing: empty(), tries: empty() };
            tasks.set(g.task_id, t);
          }
          t.duration[i] = g.duration;
          const intervalEnd = intervalEnds[i] ?? null;
          t.landing[i] = g.end_s === null || intervalEnd === null ? null : g.end_s - intervalEnd;
          t.tries[i] = g.tries === null ? 0 : Number(g.tries);
        }
        return {
          dag_id,
          dag_runs: rows.map((r) => ({
            dag_run_id: r.run_id,
            state: r.state,
            run_type: r.run_type,
            logical_date: iso(r.logical_date),
            data_interval_end: iso(r.data_interval_end),
            start_date: iso(r.start_date),
            end_date: iso(r.end_date),
            duration: seconds(r.start_date, r.end_date),
          })),
          total_entries: Number(total.n),
          tasks: [...tasks.values()],
        };
      },
    );
  };
}
