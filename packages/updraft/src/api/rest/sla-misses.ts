// `GET /api/v1/slaMisses`: the tasks that were not done by their SLA deadline (scheduler/sla.ts),
// newest first, as Airflow's sla_miss table holds them.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Database } from "../../db/index.js";
import { Id, Page, collection, route } from "./common.js";
import { iso } from "./serialize.js";

const SlaMiss = z
  .object({
    dag_id: z.string(),
    dag_run_id: z.string(),
    task_id: z.string(),
    logical_date: z.string().nullable(),
    /** When the task should have been done. */
    deadline: z.string(),
    /** When the scheduler recorded the miss. */
    timestamp: z.string(),
    description: z.string().nullable(),
  })
  .meta({ id: "SLAMiss" });
const SlaMissCollection = collection("sla_misses", SlaMiss, "SLAMissCollection");
const Query = Page.extend({ dag_id: Id.optional(), dag_run_id: Id.optional(), task_id: Id.optional() });

export function slaMissRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { querystring: Query, response: { 200: SlaMissCollection } };
    app.get(
      "/slaMisses",
      route("get_sla_misses", "List SLA misses, newest first", ["SLAMiss"], schema),
      async (request) => {
        const q = request.query;
        let rows = db.selectFrom("sla_miss");
        if (q.dag_id !== undefined) rows = rows.where("dag_id", "=", q.dag_id);
        if (q.dag_run_id !== undefined) rows = rows.where("run_id", "=", q.dag_run_id);
        if (q.task_id !== undefined) rows = rows.where("task_id", "=", q.task_id);
        const [page, total] = await Promise.all([
          rows
            .selectAll()
            .orderBy("timestamp", "desc")
            .orderBy("dag_id")
            .orderBy("run_id")
            .orderBy("task_id")
            .limit(q.limit)
            .offset(q.offset)
            .execute(),
          rows.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow(),
        ]);
        return {
          sla_misses: page.map((m) => ({
            dag_id: m.dag_id,
            dag_run_id: m.run_id,
            task_id: m.task_id,
            logical_date: iso(m.logical_date),
            deadline: iso(m.deadline) ?? "",
            timestamp: iso(m.timestamp) ?? "",
            description: m.description,
          })),
          total_entries: Number(total.n),
        };
      },
    );
  };
}
