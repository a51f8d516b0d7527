// Marking task instances success, failed or skipped, with Airflow 2's routes and shapes:
// post_set_task_instances_state (a task, its relatives, past and future runs) and
// patch_task_instance (one instance, or one map index). The rules are the service's
// (services/set-task-instance-state.ts); a dry run (Airflow's default) changes nothing.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { addAuditLog, type Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import {
  setTaskInstanceState,
  type MarkedTaskInstance,
  type SetTaskInstanceStateResult,
} from "../../services/index.js";
import { DagPath, DateTime, Id, actor, route } from "./common.js";
import { iso } from "./serialize.js";

const MapIndex = z
  .number()
  .int()
  .min(-1)
  .max(2 ** 31 - 1);
const NewState = z.enum(["success", "failed", "skipped"]);

const UpdateStateBody = z
  .object({
    dry_run: z.boolean().default(true),
    task_id: Id,
    dag_run_id: Id.optional(),
    execution_date: DateTime.optional(),
    include_upstream: z.boolean().default(false),
    include_downstream: z.boolean().default(false),
    include_future: z.boolean().default(false),
    include_past: z.boolean().default(false),
    new_state: NewState,
    /** Only these map indexes of the task (Airflow 2.10's map_indexes); its relatives whole. */
    map_indexes: z.array(MapIndex).min(1).max(10_000).optional(),
  })
  .strict()
  .meta({ id: "UpdateTaskInstancesState" });

const PatchBody = z
  .object({ dry_run: z.boolean().default(true), new_state: NewState })
  .strict()
  .meta({ id: "UpdateTaskInstance" });

/** A task instance marked (Airflow's `TaskInstanceReference`, with its map index). */
const MarkedReference = z
  .object({
    dag_id: z.string(),
    dag_run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    execution_date: z.string().nullable(),
  })
  .meta({ id: "MarkedTaskInstanceReference" });
const MarkedCollection = z
  .object({ task_instances: z.array(MarkedReference) })
  .meta({ id: "MarkedTaskInstanceReferenceCollection" });

const TiPath = z.object({ dag_id: Id, dag_run_id: Id, task_id: Id });
const MappedTiPath = TiPath.extend({ map_index: z.coerce.number().pipe(MapIndex) });

function reference(t: MarkedTaskInstance) {
  return {
    dag_id: t.dag_id,
    dag_run_id: t.run_id,
    task_id: t.task_id,
    map_index: t.map_index,
    execution_date: iso(t.logical_date),
  };
}

export function taskInstanceStateRoutes(database: Database, options: { events: EngineEvents | null }) {
  const db = database.db;
  const events = options.events;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["TaskInstance"];

    const many = { params: DagPath, body: UpdateStateBody, response: { 200: MarkedCollection } };
    app.post(
      "/dags/:dag_id/updateTaskInstancesState",
      route("post_set_task_instances_state", "Mark task instances and their relatives", tags, many),
      async (request) => {
        const { dag_id } = request.params;
        const b = request.body;
        const result = await setTaskInstanceState(
          db,
          {
            dagId: dag_id,
            taskId: b.task_id,
            runId: b.dag_run_id ?? null,
            logicalDate: b.execution_date === undefined ? null : new Date(b.execution_date),
            mapIndexes: b.map_indexes ?? null,
            upstream: b.include_upstream,
            downstream: b.include_downstream,
            future: b.include_future,
            past: b.include_past,
            state: b.new_state,
            dryRun: b.dry_run,
          },
          { events },
        );
        if (!b.dry_run) await audit(request, dag_id, b.task_id, null, b.new_state, result);
        return { task_instances: result.taskInstances.map(reference) };
      },
    );

    const base = "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";
    const markOne = async (
      request: Parameters<typeof actor>[0],
      p: z.infer<typeof TiPath>,
      mapIndex: number,
      body: z.infer<typeof PatchBody>,
    ) => {
      const result = await setTaskInstanceState(
        db,
        {
          dagId: p.dag_id,
          taskId: p.task_id,
          runId: p.dag_run_id,
          mapIndexes: [mapIndex],
          state: body.new_state,
          dryRun: body.dry_run,
        },
        { events },
      );
      if (!body.dry_run) await audit(request, p.dag_id, p.task_id, mapIndex, body.new_state, result);
      const run = await db
        .selectFrom("dag_run")
        .select("logical_date")
        .where("dag_id", "=", p.dag_id)
        .where("run_id", "=", p.dag_run_id)
        .executeTakeFirst();
      // The instance named, whether or not its state changed (it may have been in new_state).
      return {
        dag_id: p.dag_id,
        dag_run_id: p.dag_run_id,
        task_id: p.task_id,
        map_index: mapIndex,
        execution_date: iso(run?.logical_date ?? null),
      };
    };
    const one = { params: TiPath, body: PatchBody, response: { 200: MarkedReference } };
    app.patch(base, route("patch_task_instance", "Mark a task instance", tags, one), async (request) =>
      markOne(request, request.params, -1, request.body),
    );
    const mapped = { params: MappedTiPath, body: PatchBody, response: { 200: MarkedReference } };
    app.patch(
      `${base}/:map_index`,
      route("patch_mapped_task_instance", "Mark a mapped task instance", tags, mapped),
      async (request) => markOne(request, request.params, request.params.map_index, request.body),
    );
  };

  /** One event log entry per marking, naming what changed. */
  async function audit(
    request: Parameters<typeof actor>[0],
    dagId: string,
    taskId: string,
    mapIndex: number | null,
    state: string,
    result: SetTaskInstanceStateResult,
  ): Promise<void> {
    await addAuditLog(db, {
      event: `task_instance.mark_${state}`,
      dagId,
      taskId,
      runId: result.runId,
      mapIndex,
      owner: actor(request),
      // The first instances changed and how many: an entry stays small however many changed.
      extra: JSON.stringify({
        changed: result.taskInstances.length,
        task_instances: result.taskInstances.slice(0, 100).map((t) => [t.run_id, t.task_id, t.map_index]),
      }),
    });
  }
}
