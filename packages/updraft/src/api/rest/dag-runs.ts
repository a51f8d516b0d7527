import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { getDag, getDagRun, listDagRuns, listTaskInstances, type Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import { DAG_RUN_STATES, TASK_INSTANCE_STATES } from "../../model/states.js";
import { clearTaskInstances, dagNotFound, triggerDagRun } from "../../services/index.js";
import { UpdraftError } from "../../common/errors.js";
import { parseBody, parseParams } from "../validate.js";
import { DagPath, DateTime, Id, Page, RunPath, Text } from "./common.js";
import { dagRunJson, iso, taskInstanceJson } from "./serialize.js";

const TriggerBody = z
  .object({
    dag_run_id: Id.nullable().optional(),
    logical_date: DateTime.nullable().optional(),
    execution_date: DateTime.nullable().optional(),
    conf: z.record(z.string(), z.unknown()).nullable().optional(),
    note: Text.max(10_000).nullable().optional(),
  })
  .strict();

const oneOrMany = <T extends z.ZodType>(t: T) =>
  z.union([t, z.array(t)]).transform((v) => (Array.isArray(v) ? v : [v]));
const RunsQuery = Page.extend({ state: oneOrMany(z.enum(DAG_RUN_STATES)).optional() });
const TisQuery = Page.extend({ state: oneOrMany(z.enum(TASK_INSTANCE_STATES)).optional() });

const ClearBody = z
  .object({
    dry_run: z.boolean().default(true),
    task_ids: z.array(Id).max(10_000).nullable().optional(),
    dag_run_id: Id.nullable().optional(),
    start_date: DateTime.nullable().optional(),
    end_date: DateTime.nullable().optional(),
    only_failed: z.boolean().default(true),
    only_running: z.boolean().default(false),
    include_downstream: z.boolean().default(false),
    include_upstream: z.boolean().default(false),
  })
  .strict();

export interface DagRunRoutesOptions {
  events: EngineEvents | null;
  defaultTimezone: string;
}

export function dagRunRoutes(database: Database, options: DagRunRoutesOptions) {
  const db = database.db;
  const events = options.events;
  async function mustHaveDag(dagId: string): Promise<void> {
    if ((await getDag(db, dagId)) === undefined) throw dagNotFound(dagId);
  }
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post("/dags/:dag_id/dagRuns", async (request) => {
      const { dag_id } = parseParams(DagPath, request.params);
      const body = parseBody(TriggerBody, request.body ?? {});
      const run = await triggerDagRun(
        db,
        {
          dagId: dag_id,
          conf: body.conf ?? {},
          runId: body.dag_run_id ?? null,
          logicalDate: body.logical_date ?? body.execution_date ?? null,
          note: body.note ?? null,
          owner: "api",
        },
        { events, defaultTimezone: options.defaultTimezone },
      );
      return { ...dagRunJson(run), note: body.note ?? null };
    });

    app.get("/dags/:dag_id/dagRuns", async (request) => {
      const { dag_id } = parseParams(DagPath, request.params);
      const q = parseParams(RunsQuery, request.query);
      const all = dag_id === "~";
      if (!all) await mustHaveDag(dag_id);
      const filter = {
        ...(all ? {} : { dagId: dag_id }),
        ...(q.state === undefined ? {} : { states: q.state }),
      };
      let count = db.selectFrom("dag_run").select((eb) => eb.fn.countAll<number>().as("n"));
      if (!all) count = count.where("dag_id", "=", dag_id);
      if (q.state !== undefined) count = count.where("state", "in", q.state);
      const [rows, total] = await Promise.all([
        listDagRuns(db, { ...filter, limit: q.limit, offset: q.offset }),
        count.executeTakeFirstOrThrow(),
      ]);
      return { dag_runs: rows.map(dagRunJson), total_entries: Number(total.n) };
    });

    app.get("/dags/:dag_id/dagRuns/:dag_run_id", async (request) => {
      const { dag_id, dag_run_id: run_id } = parseParams(RunPath, request.params);
      const run = await getDagRun(db, { dagId: dag_id, runId: run_id });
      if (run === undefined) throw runNotFound(dag_id, run_id);
      return dagRunJson(run);
    });

    app.get("/dags/:dag_id/dagRuns/:dag_run_id/taskInstances", async (request) => {
      const { dag_id, dag_run_id: run_id } = parseParams(RunPath, request.params);
      const q = parseParams(TisQuery, request.query);
      const run = await getDagRun(db, { dagId: dag_id, runId: run_id });
      if (run === undefined) throw runNotFound(dag_id, run_id);
      let count = db
        .selectFrom("task_instance")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("dag_id", "=", dag_id)
        .where("run_id", "=", run_id);
      if (q.state !== undefined) count = count.where("state", "in", q.state);
      const [rows, total] = await Promise.all([
        listTaskInstances(db, {
          dagId: dag_id,
          runId: run_id,
          ...(q.state === undefined ? {} : { states: q.state }),
          limit: q.limit,
          offset: q.offset,
        }),
        count.executeTakeFirstOrThrow(),
      ]);
      return {
        task_instances: rows.map((r) => ({ ...taskInstanceJson(r), logical_date: iso(run.logical_date) })),
        total_entries: Number(total.n),
      };
    });

    app.post("/dags/:dag_id/clearTaskInstances", async (request) => {
      const { dag_id } = parseParams(DagPath, request.params);
      const body = parseBody(ClearBody, request.body ?? {});
      const result = await clearTaskInstances(
        db,
        {
          dagId: dag_id,
          taskIds: body.task_ids ?? null,
          runId: body.dag_run_id ?? null,
          startDate:
            body.start_date === null || body.start_date === undefined ? null : new Date(body.start_date),
          endDate: body.end_date === null || body.end_date === undefined ? null : new Date(body.end_date),
          onlyFailed: body.only_failed,
          onlyRunning: body.only_running,
          downstream: body.include_downstream,
          upstream: body.include_upstream,
          dryRun: body.dry_run,
        },
        { events },
      );
      return {
        task_instances: result.taskInstances.map((t) => ({
          dag_id: t.dag_id,
          dag_run_id: t.run_id,
          task_id: t.task_id,
          map_index: t.map_index,
          state: t.state,
          try_number: t.try_number,
          logical_date: iso(t.logical_date),
        })),
        dag_runs_requeued: result.dagRunsRequeued,
        dry_run: body.dry_run,
      };
    });
  };
}

export function runNotFound(dagId: string, runId: string): UpdraftError {
  return new UpdraftError(
    "DAG_RUN_NOT_FOUND",
    `DAG "${dagId}" has no run "${runId}". GET /api/v1/dags/${encodeURIComponent(dagId)}/dagRuns lists its runs.`,
  );
}
