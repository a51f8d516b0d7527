// The API server's view of the workers' registry in Redis (issue 12): the workers list, the
// "no worker serves queue X" explanation and the logs of tries run on workers all read it. The
// API server connects only when core.executor lists the QueueExecutor, on first use, and every
// read is bounded: a Redis that is down or unreachable is a 503 naming it within seconds, never a
// hang and never a 500.
import { Redis } from "ioredis";
import { UpdraftError } from "../../common/errors.js";
import type { UpdraftConfig } from "../../config/index.js";
import { parseExecutorSetting, type ExecutorName } from "../../executors/from-config.js";
import type { QueueWorkerFacts } from "../../model/explain-dependencies.js";
import {
  forgetWorker,
  listWorkers,
  redactBrokerUrl,
  redisOptions,
  type WorkerRecord,
} from "../../queue/index.js";

/** How long one registry read may take before the API answers 503. */
export const REGISTRY_TIMEOUT_MS = 2_500;

export interface WorkerRegistry {
  /** True when core.executor lists the QueueExecutor (otherwise there are no workers to list). */
  readonly configured: boolean;
  /** The executor a task instance without its own `executor` runs on (core.executor's first), or null when core.executor is invalid. */
  readonly defaultExecutor: ExecutorName | null;
  /** core.executor as written, for messages. */
  readonly executorSetting: string;
  /** worker.stale_after: seconds without a heartbeat after which a worker is offline. */
  readonly staleAfterS: number;
  /** Every worker seen in the last hour; [] when not configured. Throws WORKERS_REDIS_UNREACHABLE. */
  list(): Promise<WorkerRecord[]>;
  /** Removes an entry; false when there was none. Throws WORKERS_REDIS_UNREACHABLE. */
  forget(id: string): Promise<boolean>;
  close(): Promise<void>;
}

function executors(setting: string): ExecutorName[] | null {
  try {
    return parseExecutorSetting(setting);
  } catch {
    // The scheduler reports a bad core.executor; here it only means there are no workers to show.
    return null;
  }
}

/**
 * The registry as `config` reaches it (queue.broker_url, queue.key_prefix, worker.stale_after).
 * The connection is made on first use and kept (ioredis reconnects in the background).
 */
export function workerRegistry(config: UpdraftConfig, o: { timeoutMs?: number } = {}): WorkerRegistry {
  const timeoutMs = o.timeoutMs ?? REGISTRY_TIMEOUT_MS;
  const names = executors(config.core.executor);
  const configured = names?.includes("QueueExecutor") ?? false;
  const prefix = config.queue.key_prefix;
  const staleAfterS = config.worker.stale_after;
  const where = redactBrokerUrl(config.queue.broker_url);
  let client: Redis | null = null;

  const connect = (): Redis => {
    if (client !== null) return client;
    const options = redisOptions(config.queue);
    client = new Redis({
      ...options,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      // A command waiting for a connection fails after one reconnection attempt instead of
      // queueing forever (the executor's options wait, which suits BullMQ, not a request).
      maxRetriesPerRequest: 1,
      commandTimeout: timeoutMs,
      connectionName: "updraft-api-workers",
    });
    // Failures reach the caller as rejected commands; the event would otherwise be unhandled.
    client.on("error", () => undefined);
    return client;
  };

  const bounded = async <T>(what: string, work: (redis: Redis) => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const redis = connect();
      if (redis.status === "wait") void redis.connect().catch(() => undefined);
      return await Promise.race([work(redis), timeout]);
    } catch (err) {
      // A malformed queue.broker_url is the server's configuration, not the client's request.
      if (err instanceof UpdraftError && err.code === "QUEUE_BROKER_URL_INVALID")
        throw new UpdraftError("WORKERS_REDIS_UNREACHABLE", `Could not ${what}: ${err.message}`, {
          cause: err,
        });
      if (err instanceof UpdraftError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new UpdraftError(
        "WORKERS_REDIS_UNREACHABLE",
        `Could not ${what}: Redis at ${where} (queue.broker_url) is unreachable (${redactBrokerUrl(why)}). Start Redis or fix queue.broker_url (UPDRAFT__QUEUE__BROKER_URL); the QueueExecutor and its workers need it too.`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    configured,
    defaultExecutor: names?.[0] ?? null,
    executorSetting: config.core.executor,
    staleAfterS,
    async list() {
      if (!configured) return [];
      return bounded("read the workers' registry", (redis) => listWorkers(redis, prefix, staleAfterS));
    },
    async forget(id) {
      if (!configured) return false;
      return bounded("remove the worker from the registry", (redis) => forgetWorker(redis, prefix, id));
    },
    async close() {
      const c = client;
      client = null;
      c?.disconnect();
    },
  };
}

/** What the list says when the QueueExecutor is not configured. */
export function notConfiguredMessage(registry: WorkerRegistry): string {
  return `The QueueExecutor is not configured (core.executor is "${registry.executorSetting}"), so no workers take tasks from Redis. Add QueueExecutor to core.executor (UPDRAFT__CORE__EXECUTOR) and start workers with \`updraft worker --queues default\`.`;
}

/**
 * The workers' side of "why isn't this running?" for a queued or scheduled task instance on the
 * QueueExecutor (its own `executor`, else core.executor's first); undefined for any other. A
 * registry that cannot be read is a fact to report, not an error of the explanation.
 */
export async function queueWorkerFacts(
  registry: WorkerRegistry,
  ti: { state: string | null; executor: string | null; queue: string },
): Promise<QueueWorkerFacts | undefined> {
  if (!registry.configured || (ti.state !== "queued" && ti.state !== "scheduled")) return undefined;
  const executor = ti.executor ?? registry.defaultExecutor;
  if (executor === null || executor.toLowerCase() !== "queueexecutor") return undefined;
  const facts = { queue: ti.queue, staleAfterS: registry.staleAfterS };
  try {
    const live = (await registry.list())
      .filter((w) => w.alive)
      .map((w) => ({ hostname: w.hostname, queues: w.queues, draining: w.state === "draining" }));
    return { ...facts, live, unreachable: null };
  } catch (err) {
    if (!(err instanceof UpdraftError)) throw err;
    return { ...facts, live: [], unreachable: err.message };
  }
}
