// A task instance's reschedules (Airflow's task_reschedule rows): each poke of a sensor in mode
// "reschedule" that was not done yet, with its start, end and the time it asked to be run again.
// Airflow 2's API has no route for them; the UI's task instance page lists them per try.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { getTaskInstance, type Database } from "../../db/index.js";
import { collection, route, MapIndexParam, TiPath } from "./common.js";
import { iso } from "./serialize.js";
import { tiNotFound } from "./task-instances.js";

const Query = z.object({
  map_index: MapIndexParam.default(-1),
  /** Only this try's reschedules (default: every try's). */
  try_number: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
});

const Reschedule = z
  .object({
    id: z.number().int(),
    dag_id: z.string(),
    dag_run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    try_number: z.number().int(),
    start_date: z.string().nullable(),
    end_date: z.string().nullable(),
    /** Seconds the poke took. */
    duration: z.number(),
    /** When the sensor asked to poke again. */
    reschedule_date: z.string().nullable(),
  })
  .meta({ id: "TaskReschedule" });
const RescheduleCollection = collection("task_reschedules", Reschedule, "TaskRescheduleCollection");

export function taskRescheduleRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    app.get(
      "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/reschedules",
      route("get_task_instance_reschedules", "List a task instance's reschedules", ["TaskInstance"], {
        params: TiPath,
        querystring: Query,
        response: { 200: RescheduleCollection },
      }),
      async (request) => {
        const p = request.params;
        const q = request.query;
        const key = { dagId: p.dag_id, runId: p.dag_run_id, taskId: p.task_id, mapIndex: q.map_index };
        if ((await getTaskInstance(db, key)) === undefined)
          throw tiNotFound(p.dag_id, p.dag_run_id, p.task_id, q.map_index);
        let sel = db
          .selectFrom("task_reschedule")
          .selectAll()
          .where("dag_id", "=", p.dag_id)
          .where("run_id", "=", p.dag_run_id)
          .where("task_id", "=", p.task_id)
          .where("map_index", "=", q.map_index);
        if (q.try_number !== undefined) sel = sel.where("try_number", "=", q.try_number);
        const rows = await sel.orderBy("try_number").orderBy("start_date").orderBy("id").execute();
        return {
          task_reschedules: rows.map((r) => ({
            id: r.id,
            dag_id: r.dag_id,
            dag_run_id: r.run_id,
            task_id: r.task_id,
            map_index: r.map_index,
            try_number: r.try_number,
            start_date: iso(r.start_date),
            end_date: iso(r.end_date),
            duration: r.duration,
            reschedule_date: iso(r.reschedule_date),
          })),
          total_entries: rows.length,
        };
      },
    );
  };
}
