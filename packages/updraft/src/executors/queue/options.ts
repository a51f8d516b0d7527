// QueueExecutor options from the configuration (`core.parallelism`, `queue.*`, `worker.*`).
import type { RedisOptions } from "ioredis";
import type { UpdraftConfig } from "../../config/index.js";
import { redisOptions } from "../../queue/index.js";
import type { ExecutorLogger } from "../executor.js";

export interface QueueExecutorOptions {
  /** ioredis options (queue.broker_url). */
  redis: RedisOptions;
  /** queue.key_prefix: BullMQ's prefix, the registry's and the results streams'. */
  prefix: string;
  /** Tries in flight at most (core.parallelism). */
  parallelism: number;
  /** worker.stale_after in seconds: a worker silent this long is gone, its tries lost. */
  staleAfterS: number;
  /** How often the registry is read (gone workers, capacity). Default stale_after / 3, within 1–5 s. */
  lostCheckIntervalMs?: number;
  /** This executor's owner id on jobs and results; default `<hostname>-<pid>-<random>`. */
  owner?: string;
  logger?: ExecutorLogger;
}

export function queueExecutorOptions(
  config: UpdraftConfig,
  overrides: Partial<QueueExecutorOptions> = {},
): QueueExecutorOptions {
  return {
    redis: redisOptions(config.queue),
    prefix: config.queue.key_prefix,
    parallelism: config.core.parallelism,
    staleAfterS: config.worker.stale_after,
    ...overrides,
  };
}
