// A worker's runner pool is sized for its machine, not for itself (worker.runner_processes = 0):
// twice the cores, shared among the workers alive on the same host. Real Redis and real workers
// (in-process QueueWorkers with real runner processes); the capacity each heartbeats is what the
// pool lets it start now.
import { availableParallelism } from "node:os";
import { afterEach, expect, test } from "vitest";
import { stderrLogger } from "../../src/executors/executor.js";
import { listWorkers } from "../../src/queue/index.js";
import { redisOptions } from "../../src/queue/connection.js";
import { QueueWorker } from "../../src/worker/index.js";
import { eventually } from "../e2e/helpers.js";
import { describeWithRedis, testKeyPrefix, TEST_REDIS_URL } from "../redis-testing.js";
import { Redis } from "ioredis";

const workers: QueueWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.drain("test over")));
});

function startWorker(prefix: string, runnerProcesses = 0): QueueWorker {
  const w = new QueueWorker({
    redis: redisOptions({
      broker_url: TEST_REDIS_URL,
      key_prefix: prefix,
      tls_ca_file: null,
      tls_cert_file: null,
      tls_key_file: null,
      tls_reject_unauthorized: true,
    }),
    prefix,
    queues: ["default"],
    concurrency: 16,
    heartbeatIntervalMs: 200,
    staleAfterS: 5,
    runnerProcesses,
    drainTimeoutMs: 5_000,
    maxTasks: 0,
    serverUrl: null,
    local: { minWarm: 1 },
    logger: { ...stderrLogger, debug: () => undefined, info: () => undefined },
  });
  workers.push(w);
  return w;
}

async function capacities(redis: Redis, prefix: string): Promise<number[]> {
  const records = await listWorkers(redis, prefix, 5);
  return records.filter((r) => r.alive).map((r) => r.capacity ?? -1);
}

describeWithRedis("a worker's runner pool", () => {
  const whole = Math.min(16, 2 * availableParallelism());
  const shared = Math.max(1, Math.round((2 * availableParallelism()) / 2));

  test("is twice the cores alone, and shared once a second worker runs on the machine", async () => {
    const prefix = testKeyPrefix();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const a = startWorker(prefix);
      await a.start();
      await eventually(
        async () => ((await capacities(redis, prefix))[0] === whole ? true : undefined),
        10_000,
        `capacity ${whole} alone`,
      );
      const b = startWorker(prefix);
      await b.start();
      await eventually(
        async () => {
          const c = await capacities(redis, prefix);
          return c.length === 2 && c.every((n) => n === shared) ? true : undefined;
        },
        10_000,
        `both workers at capacity ${shared}`,
      );
      // The other worker gone: the pool is the machine's again.
      await b.drain("test");
      workers.splice(workers.indexOf(b), 1);
      await eventually(
        async () => ((await capacities(redis, prefix))[0] === whole ? true : undefined),
        10_000,
        `capacity ${whole} alone again`,
      );
    } finally {
      redis.disconnect();
    }
  }, 60_000);

  test("keeps worker.runner_processes when it is set", async () => {
    const prefix = testKeyPrefix();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await startWorker(prefix, 3).start();
      await startWorker(prefix, 3).start();
      await new Promise((r) => setTimeout(r, 800)); // several heartbeats
      expect(await capacities(redis, prefix)).toEqual([3, 3]);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
