// A worker's results outbox on real Redis: what an executor acts on is written at once, with what
// gathered before it and in order; a try ended with a handed-over one after it waits for company.
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { resultsKey, type QueueResult } from "../../src/executors/queue/index.js";
import type { TaskWorkload } from "../../src/model/execution-api.js";
import { BOOKKEEPING_MS, ResultsOutbox } from "../../src/worker/results-outbox.js";
import { TEST_REDIS_URL, describeWithRedis, testKeyPrefix } from "../redis-testing.js";

const PREFIX = testKeyPrefix();
const ti = (taskId: string) => ({ dag_id: "d", run_id: "r", task_id: taskId, map_index: -1 });

function workload(taskId: string): TaskWorkload {
  return {
    kind: "task",
    ti: ti(taskId),
    try_number: 1,
    fileloc: "/nowhere/d.ts",
    token: "try-token",
    api_url: "http://127.0.0.1:1",
    log_path: "/tmp/updraft-outbox-test.log",
    fresh_process: false,
    queue: "default",
    priority_weight: 1,
    execution_timeout_ms: null,
  };
}

function finished(taskId: string, next: TaskWorkload | null): QueueResult {
  return {
    type: "finished",
    key: taskId,
    worker: "w1",
    kind: "task",
    ti: ti(taskId),
    try_number: 1,
    state: "success",
    runner_ms: 1,
    next,
  };
}

describeWithRedis("worker results outbox", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL, { lazyConnect: false });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** The entries of `owner`'s stream, each as the array of results it holds. */
  async function entries(owner: string): Promise<QueueResult[][]> {
    const rows = await redis.xrange(resultsKey(PREFIX, owner), "-", "+");
    return rows.map(([, fields]) => JSON.parse(fields[1] ?? "[]") as QueueResult[]);
  }

  test("a hand-over's result waits for company; an urgent one goes at once with it, in order", async () => {
    const outbox = new ResultsOutbox(redis, PREFIX, { info() {}, warn() {}, error() {}, debug() {} });
    outbox.send("ex1", finished("a", workload("b")));
    outbox.send("ex1", finished("b", workload("c")));
    await new Promise((r) => setTimeout(r, BOOKKEEPING_MS / 4));
    expect(await entries("ex1")).toEqual([]); // still gathering
    expect(outbox.size).toBe(2);

    // A try that frees its slot: written now, after the two before it, as one entry.
    outbox.send("ex1", finished("c", null));
    outbox.send("ex2", { type: "taken", key: "x", worker: "w1" });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    const written = await entries("ex1");
    expect(written).toHaveLength(1);
    expect(written[0]?.map((r) => r.key)).toEqual(["a", "b", "c"]);
    expect((await entries("ex2"))[0]).toEqual([{ type: "taken", key: "x", worker: "w1" }]);
    expect(outbox.size).toBe(0);

    // Alone, a hand-over's result is written after BOOKKEEPING_MS.
    outbox.send("ex1", finished("d", workload("e")));
    await new Promise((r) => setTimeout(r, BOOKKEEPING_MS * 3));
    const later = await entries("ex1");
    expect(later).toHaveLength(2);
    expect(later[1]?.map((r) => r.key)).toEqual(["d"]);
  });
});
