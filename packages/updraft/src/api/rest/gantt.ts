// The UI's Gantt for one run: every try of every task instance (ended tries from the history, the
// current one from the task instance), with when it was queued, started and ended, in one query.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { getDagRun, type Database } from "../../db/index.js";
import { TASK_INSTANCE_STATES, type TaskInstanceState } from "../../model/states.js";
import { runNotFound } from "../../services/index.js";
import { RunPath, route } from "./common.js";
import { iso } from "./serialize.js";

const GanttData = z
  .object({
    dag_id: z.string(),
    dag_run_id: z.string(),
    tries: z.array(
      z.object({
        task_id: z.string(),
        map_index: z.number().int(),
        try_number: z.number().int(),
        state: z.enum(TASK_INSTANCE_STATES).nullable(),
        queued_when: z.string().nullable(),
        start_date: z.string().nullable(),
        end_date: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: "GanttData" });

interface TryRow {
  task_id: string;
  map_index: number;
  try_number: number;
  state: TaskInstanceState | null;
  queued_dttm: Date | null;
  start_date: Date | null;
  end_date: Date | null;
}

export function ganttRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { params: RunPath, response: { 200: GanttData } };
    app.get(
      "/ui/gantt/:dag_id/:dag_run_id",
      route("get_gantt_data", "Every try of a run's task instances, with its times", ["UI"], schema),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        if ((await getDagRun(db, { dagId: dag_id, runId: dag_run_id })) === undefined)
          throw runNotFound(dag_id, dag_run_id);
        // A try that ended is in the history; the current try is added while it has not ended.
        const rows = await sql<TryRow>`
          SELECT task_id, map_index, try_number, state, queued_dttm, start_date, end_date
          FROM task_instance_history WHERE dag_id = ${dag_id} AND run_id = ${dag_run_id}
          UNION ALL
          SELECT ti.task_id, ti.map_index, ti.try_number, ti.state, ti.queued_dttm, ti.start_date, ti.end_date
          FROM task_instance ti
          WHERE ti.dag_id = ${dag_id} AND ti.run_id = ${dag_run_id} AND ti.try_number > 0
            AND NOT EXISTS (
              SELECT 1 FROM task_instance_history h
              WHERE h.dag_id = ti.dag_id AND h.run_id = ti.run_id AND h.task_id = ti.task_id
                AND h.map_index = ti.map_index AND h.try_number = ti.try_number)
          ORDER BY 1, 2, 3`.execute(db);
        return {
          dag_id,
          dag_run_id,
          tries: rows.rows.map((r) => ({
            task_id: r.task_id,
            map_index: r.map_index,
            try_number: r.try_number,
            state: r.state,
            queued_when: iso(r.queued_dttm),
            start_date: iso(r.start_date),
            end_date: iso(r.end_date),
          })),
        };
      },
    );
  };
}
