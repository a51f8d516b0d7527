// Why a task instance is not running yet: Airflow's task instance dependencies
// (get_task_instance_dependencies), for an unmapped instance and for one map index. Read-only.
// The static segment `dependencies` wins over task-instances.ts's `/:task_id/:map_index` in
// Fastify's router, and a map index is a number, so the two never meet.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Database } from "../../db/index.js";
import { explainDependencies } from "../../model/explain-dependencies.js";
import { TASK_INSTANCE_STATES } from "../../model/states.js";
import { route, MapIndexParam, TiPath } from "./common.js";
import { dependencyFacts } from "./dependency-facts.js";
import { queueWorkerFacts, type WorkerRegistry } from "./workers-registry.js";
import { parseExecutorSetting } from "../../executors/from-config.js";

/** core.executor's names; undefined (not checked) when unset or invalid: the scheduler reports that. */
function configuredExecutors(setting: string | undefined): readonly string[] | undefined {
  if (setting === undefined) return undefined;
  try {
    return parseExecutorSetting(setting);
  } catch {
    return undefined;
  }
}

const MappedTiPath = TiPath.extend({ map_index: MapIndexParam });

const Dependency = z
  .object({
    /** Airflow's dependency name ("Trigger Rule", "Pool Slots Available", …). */
    name: z.string(),
    reason: z.string(),
  })
  .meta({ id: "TaskDependency" });

export const TaskInstanceDependencies = z
  .object({
    /** The unmet dependencies; empty when nothing the scheduler checks holds the instance back. */
    dependencies: z.array(Dependency),
    state: z.enum(TASK_INSTANCE_STATES).nullable(),
    /** What the scheduler last recorded as the reason it waits (task_instance.wait_reason). */
    wait_reason: z.string().nullable(),
    /** One sentence on where the instance stands (running, finished, what happens next). */
    message: z.string(),
  })
  .meta({ id: "TaskInstanceDependencies" });

export function taskDependencyRoutes(
  database: Database,
  o: { maxActiveTasksPerDag: number; workers?: WorkerRegistry; executorSetting?: string },
) {
  const db = database.db;
  const executors = configuredExecutors(o.executorSetting);
  const explain = async (dagId: string, runId: string, taskId: string, mapIndex: number) => {
    const { facts, ti } = await dependencyFacts(
      db,
      { dagId, runId, taskId, mapIndex },
      o.maxActiveTasksPerDag,
    );
    // Whether a live worker takes the instance's queue (QueueExecutor only): read from Redis here,
    // so that the model stays pure.
    if (o.workers !== undefined) facts.workers = await queueWorkerFacts(o.workers, ti);
    // A task naming an executor core.executor does not list (decision 0027).
    if (executors !== undefined) facts.executor = { name: ti.executor, configured: executors };
    return { ...explainDependencies(facts), state: ti.state, wait_reason: ti.wait_reason };
  };

  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["TaskInstance"];
    const base = "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id";
    const response = { 200: TaskInstanceDependencies };

    app.get(
      `${base}/dependencies`,
      route("get_task_instance_dependencies", "Why a task instance is not running yet", tags, {
        params: TiPath,
        response,
      }),
      async (request) => {
        const p = request.params;
        return explain(p.dag_id, p.dag_run_id, p.task_id, -1);
      },
    );
    app.get(
      `${base}/:map_index/dependencies`,
      route("get_mapped_task_instance_dependencies", "Why a mapped task instance is not running yet", tags, {
        params: MappedTiPath,
        response,
      }),
      async (request) => {
        const p = request.params;
        return explain(p.dag_id, p.dag_run_id, p.task_id, p.map_index);
      },
    );
  };
}
