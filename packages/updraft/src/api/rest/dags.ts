import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { getDag, listDags, type Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import { dagNotFound, loadDag, setDagPaused } from "../../services/index.js";
import { parseBody, parseParams } from "../validate.js";
import { DagPath, Page } from "./common.js";
import { dagJson } from "./serialize.js";

const BoolParam = z.enum(["true", "false"]).transform((s) => s === "true");
const ListQuery = Page.extend({ paused: BoolParam.optional(), only_active: BoolParam.default(true) });
const PatchBody = z.object({ is_paused: z.boolean() }).strict();

export function dagRoutes(database: Database, events: EngineEvents | null) {
  const db = database.db;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get("/dags", async (request) => {
      const q = parseParams(ListQuery, request.query);
      const filter = {
        ...(q.paused === undefined ? {} : { paused: q.paused }),
        ...(q.only_active ? { active: true } : {}),
      };
      let count = db.selectFrom("dag").select((eb) => eb.fn.countAll<number>().as("n"));
      if (filter.paused !== undefined) count = count.where("is_paused", "=", filter.paused);
      if (filter.active !== undefined) count = count.where("is_active", "=", filter.active);
      const [rows, total] = await Promise.all([
        listDags(db, { ...filter, limit: q.limit, offset: q.offset }),
        count.executeTakeFirstOrThrow(),
      ]);
      return { dags: rows.map(dagJson), total_entries: Number(total.n) };
    });

    app.get("/dags/:dag_id", async (request) => {
      const { dag_id } = parseParams(DagPath, request.params);
      const row = await getDag(db, dag_id);
      if (row === undefined) throw dagNotFound(dag_id);
      return dagJson(row);
    });

    app.patch("/dags/:dag_id", async (request) => {
      const { dag_id } = parseParams(DagPath, request.params);
      const body = parseBody(PatchBody, request.body);
      return dagJson(await setDagPaused(db, dag_id, body.is_paused, { events }));
    });

    app.get("/dags/:dag_id/details", async (request) => {
      const { dag_id } = parseParams(DagPath, request.params);
      const row = await getDag(db, dag_id);
      const dag = row === undefined ? undefined : await loadDag(db, dag_id);
      if (row === undefined || dag === undefined) throw dagNotFound(dag_id);
      const s = dag.dag;
      return {
        ...dagJson(row),
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
      };
    });
  };
}
