// `GET /api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/deadlines`: a run's deadline alerts (Airflow
// 3.1's deadlines): the ones it missed, as the scheduler recorded them (scheduler/deadlines.ts),
// and the ones still ahead, computed from the DAG's current alerts and the run the same way.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import { getDagRun, type Database } from "../../db/index.js";
import { runNotFound } from "../../services/index.js";
import { RunPath, route } from "./common.js";
import { iso } from "./serialize.js";

const Deadline = z
  .object({
    /** Position of the alert in the DAG's `deadline` list. */
    alert_index: z.number().int(),
    /** `DagRunLogicalDateDeadline`, `DagRunQueuedAtDeadline` or `FixedDatetimeDeadline`. */
    reference_type: z.string(),
    /** When the run must be done; null when its reference is unknown (a run never queued). */
    deadline_time: z.string().nullable(),
    missed: z.boolean(),
    /** When the scheduler recorded the miss (and queued the callback). */
    missed_at: z.string().nullable(),
  })
  .meta({ id: "Deadline" });
const DeadlineCollection = z
  .object({
    dag_id: z.string(),
    dag_run_id: z.string(),
    deadlines: z.array(Deadline),
    total_entries: z.number().int(),
  })
  .meta({ id: "DeadlineCollection" });

interface Row {
  alert_index: number;
  reference_type: string;
  deadline_time: Date | null;
  missed_at: Date | null;
}

export function deadlineRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { params: RunPath, response: { 200: DeadlineCollection } };
    app.get(
      "/dags/:dag_id/dagRuns/:dag_run_id/deadlines",
      route("get_dag_run_deadlines", "A run's deadline alerts: missed and still ahead", ["DagRun"], schema),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        if ((await getDagRun(db, { dagId: dag_id, runId: dag_run_id })) === undefined)
          throw runNotFound(dag_id, dag_run_id);
        const { rows } = await sql<Row>`
          with alerts as (
            select (a.ord - 1)::int as alert_index, a.value->>'reference_type' as reference_type,
              case a.value->>'reference_type'
                when 'DagRunLogicalDateDeadline' then dr.logical_date
                when 'DagRunQueuedAtDeadline' then dr.queued_at
                else (a.value->>'datetime')::timestamptz
              end + make_interval(secs => (a.value->>'interval_ms')::double precision / 1000) as deadline_time
            from dag_run dr
            join serialized_dag s on s.dag_id = dr.dag_id
            cross join lateral jsonb_array_elements(
              case when jsonb_typeof(s.data->'deadline') = 'array' then s.data->'deadline' else '[]'::jsonb end
            ) with ordinality as a(value, ord)
            where dr.dag_id = ${dag_id} and dr.run_id = ${dag_run_id} and dr.run_type <> 'backfill'
          ), missed as (
            select alert_index, reference_type, deadline_time, created_at from deadline
            where dag_id = ${dag_id} and run_id = ${dag_run_id}
          )
          select alert_index, coalesce(m.reference_type, a.reference_type) as reference_type,
            coalesce(m.deadline_time, a.deadline_time) as deadline_time, m.created_at as missed_at
          from alerts a full join missed m using (alert_index)
          order by alert_index`.execute(db);
        return {
          dag_id,
          dag_run_id,
          deadlines: rows.map((r) => ({
            alert_index: r.alert_index,
            reference_type: r.reference_type,
            deadline_time: iso(r.deadline_time),
            missed: r.missed_at !== null,
            missed_at: iso(r.missed_at),
          })),
          total_entries: rows.length,
        };
      },
    );
  };
}
