// The QueueExecutor's workers (issue 12), as their heartbeats in Redis describe them: what each
// serves, what it runs, whether it is alive. Nothing here touches the database: workers never do
// either, the registry in Redis is the only record of them (decision 0026).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import type { WorkerRecord } from "../../queue/index.js";
import { Id, Page, actor, route } from "./common.js";
import { notConfiguredMessage, type WorkerRegistry } from "./workers-registry.js";

export const WORKER_STATES = ["running", "draining", "offline"] as const;

const WorkerTry = z
  .object({
    dag_id: z.string(),
    run_id: z.string(),
    task_id: z.string(),
    map_index: z.number().int(),
    try_number: z.number().int(),
  })
  .meta({ id: "WorkerTry" });

const Worker = z
  .object({
    /** `hostname:pid:random`, unique per worker process. */
    id: z.string(),
    hostname: z.string(),
    pid: z.number().int(),
    queues: z.array(z.string()),
    concurrency: z.number().int(),
    /** Tries it can start at once now: its warm runner pool, at most `concurrency`. */
    capacity: z.number().int(),
    /** The tries it runs now. */
    running: z.array(WorkerTry),
    tries_finished: z.number().int(),
    /** running takes work; draining finishes its tries and takes none; offline stopped or missed heartbeats for worker.stale_after seconds. */
    state: z.enum(WORKER_STATES),
    last_seen: z.string(),
    seconds_since_heartbeat: z.number(),
    started_at: z.string(),
    version: z.string(),
    /** Where the API server reads logs of its tries from; null when it serves none. */
    server_url: z.string().nullable(),
  })
  .meta({ id: "Worker" });

const WorkerCollection = z
  .object({
    workers: z.array(Worker),
    total_entries: z.number().int(),
    /** False when core.executor does not list the QueueExecutor: then there are no workers. */
    queue_executor: z.boolean(),
    /** Why the list is empty when queue_executor is false; null otherwise. */
    message: z.string().nullable(),
  })
  .meta({ id: "WorkerCollection" });

const ListQuery = Page.extend({
  /** Only workers that take work from this queue. */
  queue: Id.optional(),
  /** true: only running or draining workers; false: only offline ones. */
  alive: z.enum(["true", "false"]).optional(),
});
const WorkerPath = z.object({ worker_id: Id });

export type WorkerJson = z.infer<typeof Worker>;

const ORDER: Record<(typeof WORKER_STATES)[number], number> = { running: 0, draining: 1, offline: 2 };

/** A registry entry as the API shows it. */
export function workerJson(w: WorkerRecord): WorkerJson {
  return {
    id: w.id,
    hostname: w.hostname,
    pid: w.pid,
    queues: w.queues,
    concurrency: w.concurrency,
    capacity: w.capacity ?? w.concurrency,
    running: w.running.map((t) => ({
      dag_id: t.dag_id,
      run_id: t.run_id,
      task_id: t.task_id,
      map_index: t.map_index,
      try_number: t.try_number,
    })),
    tries_finished: w.tries_finished,
    state: w.alive ? w.state : "offline",
    last_seen: w.last_seen,
    seconds_since_heartbeat: w.seconds_since_heartbeat,
    started_at: w.started_at,
    version: w.version,
    server_url: w.server_url,
  };
}

/** Live workers first, then by hostname and id: a stable order for a list that is polled. */
function byStateAndHost(a: WorkerJson, b: WorkerJson): number {
  return ORDER[a.state] - ORDER[b.state] || a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id);
}

function notFound(id: string, registry: WorkerRegistry): UpdraftError {
  const why = registry.configured
    ? "(workers are forgotten an hour after their last heartbeat)"
    : `(${notConfiguredMessage(registry)})`;
  return new UpdraftError(
    "WORKER_NOT_FOUND",
    `No worker "${id}" is in the registry ${why}. GET /api/v1/workers lists them.`,
  );
}

export function workerRoutes(registry: WorkerRegistry) {
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Worker"];
    const list = { querystring: ListQuery, response: { 200: WorkerCollection } };
    app.get(
      "/workers",
      route("get_workers", "List the QueueExecutor's workers", tags, list),
      async (request) => {
        const q = request.query;
        if (!registry.configured)
          return {
            workers: [],
            total_entries: 0,
            queue_executor: false,
            message: notConfiguredMessage(registry),
          };
        const all = (await registry.list())
          .map(workerJson)
          .filter((w) => q.queue === undefined || w.queues.includes(q.queue))
          .filter((w) => q.alive === undefined || (w.state !== "offline") === (q.alive === "true"))
          .sort(byStateAndHost);
        return {
          workers: all.slice(q.offset, q.offset + q.limit),
          total_entries: all.length,
          queue_executor: true,
          message: null,
        };
      },
    );

    const one = { params: WorkerPath, response: { 200: Worker } };
    app.get("/workers/:worker_id", route("get_worker", "Get a worker", tags, one), async (request) => {
      const id = request.params.worker_id;
      const found = (await registry.list()).find((w) => w.id === id);
      if (found === undefined) throw notFound(id, registry);
      return workerJson(found);
    });

    const del = { params: WorkerPath, response: { 204: z.null() } };
    app.delete(
      "/workers/:worker_id",
      route("delete_worker", "Forget an offline worker", tags, del),
      async (request, reply) => {
        const id = request.params.worker_id;
        const found = (await registry.list()).find((w) => w.id === id);
        if (found === undefined) throw notFound(id, registry);
        if (found.alive)
          throw new UpdraftError(
            "WORKER_ALIVE",
            `Worker "${id}" on ${found.hostname} heartbeated ${found.seconds_since_heartbeat} s ago: it is alive and would reappear at its next heartbeat. Stop it (SIGTERM drains it) and forget it once it is offline.`,
          );
        await registry.forget(id);
        request.log.info({ worker: id, by: actor(request) }, "worker forgotten");
        return reply.code(204).send();
      },
    );
  };
}
