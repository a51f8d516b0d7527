// DAG runs with Airflow 2's routes and shapes: trigger, list (one DAG, every DAG with `~`, or the
// batch POST), get, mark success/failed/queued, clear, note, delete, and a run's task instances.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { addAuditLog, getDag, getDagRun, type Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import {
  clearTaskInstances,
  dagNotFound,
  runNotFound,
  setDagRunState,
  triggerDagRun,
  type ClearedTaskInstance,
} from "../../services/index.js";
import { DagPath, RunPath, route, actor } from "./common.js";
import {
  ClearBody,
  ClearResultJson,
  ClearRunBody,
  DagRunCollection,
  DagRunJson,
  NoteBody,
  PatchRunBody,
  RunsBatchBody,
  RunsQuery,
  TisBatchBody,
  TisQuery,
  TriggerBody,
} from "./dag-run-schemas.js";
import { listRuns } from "./list-runs.js";
import { listTis } from "./list-task-instances.js";
import { dagRunJson, iso, taskInstanceJson } from "./serialize.js";
import { TaskInstanceCollection } from "./task-instances.js";

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
  async function mustHaveRun(dagId: string, runId: string) {
    const run = await getDagRun(db, { dagId, runId });
    if (run === undefined) throw runNotFound(dagId, runId);
    return run;
  }
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["DAGRun"];
    const run = "/dags/:dag_id/dagRuns/:dag_run_id";

    const trigger = { params: DagPath, body: TriggerBody.prefault({}), response: { 200: DagRunJson } };
    app.post(
      "/dags/:dag_id/dagRuns",
      route("post_dag_run", "Trigger a DAG run", tags, trigger),
      async (request) => {
        const { dag_id } = request.params;
        const body = request.body;
        const created = await triggerDagRun(
          db,
          {
            dagId: dag_id,
            conf: body.conf ?? {},
            runId: body.dag_run_id ?? null,
            logicalDate: body.logical_date ?? body.execution_date ?? null,
            note: body.note ?? null,
            owner: actor(request),
          },
          { events, defaultTimezone: options.defaultTimezone },
        );
        return dagRunJson(created);
      },
    );

    const list = { params: DagPath, querystring: RunsQuery, response: { 200: DagRunCollection } };
    app.get(
      "/dags/:dag_id/dagRuns",
      route("get_dag_runs", "List DAG runs (`~` for every DAG)", tags, list),
      async (request) => {
        const { dag_id } = request.params;
        const q = request.query;
        if (dag_id !== "~") await mustHaveDag(dag_id);
        const { rows, total } = await listRuns(db, {
          ...q,
          ...(dag_id === "~" ? {} : { dag_ids: [dag_id] }),
          ...(q.state === undefined ? {} : { states: q.state }),
        });
        return { dag_runs: rows.map(dagRunJson), total_entries: total };
      },
    );

    const batch = {
      body: RunsBatchBody.prefault({}),
      response: { 200: DagRunCollection },
    };
    app.post(
      "/dags/~/dagRuns/list",
      route("get_dag_runs_batch", "List DAG runs of many DAGs", tags, batch),
      async (request) => {
        const b = request.body;
        const { rows, total } = await listRuns(db, { ...b, limit: b.page_limit, offset: b.page_offset });
        return { dag_runs: rows.map(dagRunJson), total_entries: total };
      },
    );

    const one = { params: RunPath, response: { 200: DagRunJson } };
    app.get(run, route("get_dag_run", "Get a DAG run", tags, one), async (request) => {
      const { dag_id, dag_run_id } = request.params;
      return dagRunJson(await mustHaveRun(dag_id, dag_run_id));
    });

    const patch = { params: RunPath, body: PatchRunBody, response: { 200: DagRunJson } };
    app.patch(
      run,
      route("update_dag_run_state", "Mark a DAG run success, failed or queued", tags, patch),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        const { run: marked } = await setDagRunState(
          db,
          { dagId: dag_id, runId: dag_run_id, state: request.body.state },
          { events },
        );
        await addAuditLog(db, {
          event: `dag_run.mark_${request.body.state}`,
          dagId: dag_id,
          runId: dag_run_id,
          owner: actor(request),
        });
        return dagRunJson(marked);
      },
    );

    const del = { params: RunPath, response: { 204: z.null() } };
    app.delete(run, route("delete_dag_run", "Delete a DAG run", tags, del), async (request, reply) => {
      const { dag_id, dag_run_id } = request.params;
      // Its task instances, XComs and history go with it (ON DELETE CASCADE); a runner still at
      // work on one of them is refused at its next heartbeat.
      const deleted = await db
        .deleteFrom("dag_run")
        .where("dag_id", "=", dag_id)
        .where("run_id", "=", dag_run_id)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) throw runNotFound(dag_id, dag_run_id);
      await addAuditLog(db, {
        event: "dag_run.delete",
        dagId: dag_id,
        runId: dag_run_id,
        owner: actor(request),
      });
      return reply.code(204).send(null);
    });

    const clearRun = {
      params: RunPath,
      body: ClearRunBody.prefault({}),
      response: { 200: z.union([DagRunJson, ClearResultJson]) },
    };
    app.post(
      `${run}/clear`,
      route("clear_dag_run", "Clear every task instance of a DAG run", tags, clearRun),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        await mustHaveRun(dag_id, dag_run_id);
        const result = await clearTaskInstances(
          db,
          { dagId: dag_id, runId: dag_run_id, onlyFailed: false, dryRun: request.body.dry_run },
          { events },
        );
        if (request.body.dry_run) {
          return {
            task_instances: result.taskInstances.map(reference),
            dag_runs_requeued: result.dagRunsRequeued,
            dry_run: true,
          };
        }
        await addAuditLog(db, {
          event: "dag_run.clear",
          dagId: dag_id,
          runId: dag_run_id,
          owner: actor(request),
        });
        return dagRunJson(await mustHaveRun(dag_id, dag_run_id));
      },
    );

    const note = { params: RunPath, body: NoteBody, response: { 200: DagRunJson } };
    app.patch(
      `${run}/setNote`,
      route("set_dag_run_note", "Set a DAG run's note", tags, note),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        const updated = await db
          .updateTable("dag_run")
          .set({ note: request.body.note })
          .where("dag_id", "=", dag_id)
          .where("run_id", "=", dag_run_id)
          .returningAll()
          .executeTakeFirst();
        if (updated === undefined) throw runNotFound(dag_id, dag_run_id);
        return dagRunJson(updated);
      },
    );

    const tis = { params: RunPath, querystring: TisQuery, response: { 200: TaskInstanceCollection } };
    app.get(
      `${run}/taskInstances`,
      route("get_task_instances", "List a DAG run's task instances", ["TaskInstance"], tis),
      async (request) => {
        const { dag_id, dag_run_id } = request.params;
        const q = request.query;
        const found = await mustHaveRun(dag_id, dag_run_id);
        const { rows, total } = await listTis(db, { ...q, dag_ids: [dag_id], dag_run_ids: [dag_run_id] });
        return {
          task_instances: rows.map((r) => ({
            ...taskInstanceJson(r),
            logical_date: iso(found.logical_date),
          })),
          total_entries: total,
        };
      },
    );

    const tiBatch = { body: TisBatchBody.prefault({}), response: { 200: TaskInstanceCollection } };
    const batchRoute = route(
      "get_task_instances_batch",
      "List task instances across runs and DAGs",
      ["TaskInstance"],
      tiBatch,
    );
    app.post("/dags/~/dagRuns/~/taskInstances/list", batchRoute, async (request) => {
      const b = request.body;
      const { rows, total } = await listTis(db, { ...b, limit: b.page_limit, offset: b.page_offset });
      return {
        task_instances: rows.map((r) => ({ ...taskInstanceJson(r), logical_date: iso(r.run_logical_date) })),
        total_entries: total,
      };
    });

    const clear = { params: DagPath, body: ClearBody.prefault({}), response: { 200: ClearResultJson } };
    app.post(
      "/dags/:dag_id/clearTaskInstances",
      route("post_clear_task_instances", "Clear task instances", ["TaskInstance"], clear),
      async (request) => {
        const { dag_id } = request.params;
        const body = request.body;
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
          task_instances: result.taskInstances.map(reference),
          dag_runs_requeued: result.dagRunsRequeued,
          dry_run: body.dry_run,
        };
      },
    );
  };
}

function reference(t: ClearedTaskInstance) {
  return {
    dag_id: t.dag_id,
    dag_run_id: t.run_id,
    task_id: t.task_id,
    map_index: t.map_index,
    state: t.state,
    try_number: t.try_number,
    logical_date: iso(t.logical_date),
  };
}
