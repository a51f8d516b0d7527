// The QueueExecutor alone on real Redis: jobs per try (deterministic ids, a try queued twice is
// one job), slot accounting through results and hand-overs, and the registry-based detection of
// tries whose worker is gone (reported lost once, after two checks).
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { ExecutorEvent } from "../../src/executors/executor.js";
import {
  HANDED_BACK_TTL_S,
  QueueExecutor,
  handedBackKey,
  jobIdOf,
  resultsKey,
  tryKey,
  type QueueResult,
} from "../../src/executors/queue/index.js";
import type { TaskWorkload } from "../../src/model/execution-api.js";
import { redisOptions, writeHeartbeat, type WorkerRecord } from "../../src/queue/index.js";
import { TEST_REDIS_URL, describeWithRedis, testKeyPrefix } from "../redis-testing.js";

const PREFIX = testKeyPrefix();
const OPTIONS = redisOptions({
  broker_url: TEST_REDIS_URL,
  key_prefix: PREFIX,
  tls_ca_file: null,
  tls_cert_file: null,
  tls_key_file: null,
  tls_reject_unauthorized: true,
});

function workload(taskId: string, tryNumber = 1, queue = "default"): TaskWorkload {
  return {
    kind: "task",
    ti: { dag_id: "d", run_id: "manual__2026-01-01T00:00:00+00:00", task_id: taskId, map_index: -1 },
    try_number: tryNumber,
    fileloc: "/nowhere/d.ts",
    token: "try-token",
    api_url: "http://127.0.0.1:1",
    log_path: "/tmp/updraft-queue-test.log",
    fresh_process: false,
    queue,
    priority_weight: 1,
    execution_timeout_ms: null,
  };
}

function record(id: string, over: Partial<WorkerRecord> = {}): WorkerRecord {
  return {
    id,
    hostname: "host-a",
    pid: 42,
    queues: ["default"],
    concurrency: 4,
    state: "running",
    running: [],
    tries_finished: 0,
    version: "test",
    server_url: null,
    started_at: new Date().toISOString(),
    last_seen: new Date().toISOString(),
    seconds_since_heartbeat: 0,
    alive: true,
    stopped: false,
    ...over,
  };
}

describeWithRedis("QueueExecutor", () => {
  let redis: Redis;
  const executors: QueueExecutor[] = [];
  const make = (parallelism: number): { ex: QueueExecutor; events: ExecutorEvent[] } => {
    const ex = new QueueExecutor({ redis: OPTIONS, prefix: PREFIX, parallelism, staleAfterS: 3 });
    const events: ExecutorEvent[] = [];
    ex.onEvent((e) => events.push(e));
    executors.push(ex);
    return { ex, events };
  };

  beforeAll(() => {
    redis = new Redis(OPTIONS);
  });
  afterAll(async () => {
    for (const ex of executors) await ex.stop();
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  test("one job per try (ids without ':'), priority, slots = parallelism minus tries in flight", async () => {
    const { ex } = make(3);
    await ex.start();
    expect(ex.openSlots()).toBe(3);
    const a = workload("a");
    ex.queueWorkload(a);
    ex.queueWorkload(a); // queued twice: one job, one slot
    ex.queueWorkload(workload("b", 1, "gpu"));
    expect(ex.openSlots()).toBe(1);
    expect(jobIdOf(a)).not.toContain(":");
    const q = new Queue("default", { connection: redis, prefix: PREFIX });
    const g = new Queue("gpu", { connection: redis, prefix: PREFIX });
    const deadline = Date.now() + 5000;
    while ((await q.getJobCountByTypes("prioritized", "wait")) < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await q.getJobCountByTypes("prioritized", "wait")).toBe(1);
    expect(await g.getJobCountByTypes("prioritized", "wait")).toBe(1);
    const job = await q.getJob(jobIdOf(a));
    expect(job?.data).toEqual({ workload: a, owner: ex.owner });
    expect(ex.stats()).toEqual({ queued: 2, busy: 0 });
    // stop() takes back what no worker took.
    const { notStarted } = await ex.stop();
    expect(notStarted.map((w) => w.ti.task_id).sort()).toEqual(["a", "b"]);
    expect(await q.getJobCountByTypes("prioritized", "wait")).toBe(0);
    await q.close();
    await g.close();
  });

  test("results from the stream free slots; a hand-over keeps its slot for the next try", async () => {
    const { ex, events } = make(2);
    await ex.start();
    const a = workload("a");
    const b = workload("b");
    ex.queueWorkload(a);
    expect(ex.openSlots()).toBe(1);
    // A worker writes the results that gathered since its last write as one entry, in order; an
    // entry of one object (as workers before the batching wrote) is read as well.
    const send = (r: QueueResult | QueueResult[]) =>
      redis.xadd(resultsKey(PREFIX, ex.owner), "*", "m", JSON.stringify(r));
    await send([
      { type: "taken", key: tryKey(a), worker: "w1" },
      {
        type: "finished",
        key: tryKey(a),
        worker: "w1",
        kind: "task",
        ti: a.ti,
        try_number: 1,
        state: "success",
        runner_ms: 5,
        next: b,
      },
    ]);
    const deadline = Date.now() + 5000;
    while (events.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "finished", state: "success", next: { ti: { task_id: "b" } } });
    expect(ex.openSlots()).toBe(1); // b holds a's slot
    expect(ex.tries()).toEqual([{ key: tryKey(b), worker: "w1" }]);
    await send({
      type: "lost",
      key: tryKey(b),
      worker: "w1",
      kind: "task",
      ti: b.ti,
      try_number: 1,
      reason: "killed",
    });
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(events[1]).toMatchObject({ type: "lost", reason: "killed", ti: { task_id: "b" } });
    expect(ex.openSlots()).toBe(2);
  });

  test("tries of a worker that stopped heartbeating are lost once, after two checks", async () => {
    const { ex, events } = make(4);
    const a = workload("a");
    const b = workload("b");
    const c = workload("c");
    ex.queueWorkload(a);
    ex.queueWorkload(b);
    ex.queueWorkload(c);
    ex.handleResult({ type: "taken", key: tryKey(a), worker: "dead" });
    ex.handleResult({ type: "taken", key: tryKey(b), worker: "alive" });
    // c's worker is known from the registry only (its "taken" message was lost).
    const gone = record("dead", { alive: false, seconds_since_heartbeat: 12.4 });
    const ok = record("alive", {
      running: [{ ...c.ti, try_number: 1 }],
    });
    const now = Date.now();
    expect(await ex.settleGone([gone, ok], now)).toBe(0); // suspect at the first check
    expect(ex.tries().find((t) => t.key === tryKey(c))?.worker).toBe("alive");
    expect(await ex.settleGone([gone, ok], now + 1000)).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "lost", ti: { task_id: "a" }, maybeNotStarted: true });
    expect((events[0] as { reason: string }).reason).toMatch(
      /worker dead \(host-a, pid 42\) is gone: last heartbeat 12 s ago/,
    );
    expect(await ex.settleGone([gone, ok], now + 2000)).toBe(0); // once
    expect(ex.openSlots()).toBe(2);
    // A worker missing from the registry (Redis restarted) counts as gone only after stale_after.
    expect(await ex.settleGone([gone], now + 3000)).toBe(0);
    expect(await ex.settleGone([gone], now + 4000)).toBe(0);
    expect(await ex.settleGone([gone], now + 6500)).toBe(0); // missing 3.5 s: suspect
    expect(await ex.settleGone([gone], now + 7500)).toBe(2);
    expect(events.slice(1).map((e) => (e as { reason: string }).reason)).toEqual([
      expect.stringMatching(/worker alive is gone: not in the workers' registry for \d s/),
      expect.stringMatching(/worker alive is gone/),
    ]);
    expect(ex.openSlots()).toBe(4);
  });

  test("a try lost with its worker may go back to the queue once: its second loss uses it up", async () => {
    const { ex, events } = make(2);
    const a = workload("again");
    const gone = record("dead", { alive: false, seconds_since_heartbeat: 12 });
    const now = Date.now();
    for (const round of [0, 1]) {
      ex.queueWorkload(a);
      ex.handleResult({ type: "taken", key: tryKey(a), worker: "dead" });
      await ex.settleGone([gone], now + round * 10_000);
      await ex.settleGone([gone], now + round * 10_000 + 1000);
    }
    expect(events.map((e) => [e.type, e.type === "lost" ? e.maybeNotStarted : undefined])).toEqual([
      ["lost", true],
      ["lost", undefined],
    ]);
  });

  test("a restarted scheduler's executor remembers, through Redis, that a try went back to the queue once", async () => {
    const a = workload("restarted");
    // The dead workers' last heartbeats still list the try, as they do after a SIGKILL.
    const dead1 = record("dead1", {
      alive: false,
      seconds_since_heartbeat: 12,
      running: [{ ...a.ti, try_number: 1 }],
    });
    const dead2 = record("dead2", {
      alive: false,
      seconds_since_heartbeat: 5,
      running: [{ ...a.ti, try_number: 1 }],
    });
    const now = Date.now();
    const first = make(2);
    first.ex.queueWorkload(a);
    first.ex.handleResult({ type: "taken", key: tryKey(a), worker: "dead1" });
    await first.ex.settleGone([dead1], now);
    expect(await first.ex.settleGone([dead1], now + 1000)).toBe(1);
    expect(first.events).toEqual([expect.objectContaining({ type: "lost", maybeNotStarted: true })]);
    await first.ex.stop();
    // The scheduler restarts: a new executor (new owner, empty memory) on the same Redis. It
    // queues the handed-back try; the dead worker's record listing it does not make it lost.
    const second = make(2);
    expect(second.ex.owner).not.toBe(first.ex.owner);
    second.ex.queueWorkload(a);
    for (const t of [2000, 3000, 4000, 5000]) expect(await second.ex.settleGone([dead1], now + t)).toBe(0);
    expect(second.ex.tries()).toEqual([{ key: tryKey(a), worker: null }]);
    // The worker that takes it dies before it starts, too: this loss uses the try up.
    second.ex.handleResult({ type: "taken", key: tryKey(a), worker: "dead2" });
    await second.ex.settleGone([dead1, dead2], now + 6000);
    expect(await second.ex.settleGone([dead1, dead2], now + 7000)).toBe(1);
    expect(second.events).toEqual([expect.objectContaining({ type: "lost" })]);
    expect(second.events[0]).not.toHaveProperty("maybeNotStarted"); // settled by its retry rules
    // The fact expires, so that Redis does not keep it for ever.
    const ttl = await redis.ttl(handedBackKey(PREFIX, a));
    expect(ttl).toBeGreaterThan(HANDED_BACK_TTL_S - 60);
    expect(ttl).toBeLessThanOrEqual(HANDED_BACK_TTL_S);
  });

  test("a try re-queued after its worker died is not pinned on the dead worker's last heartbeat", async () => {
    // CI once saw it: the dead worker's record still lists the try (its last heartbeat), the
    // re-queued try (same try number) waits for its "taken" message, and the registry read in
    // between pinned it on the dead worker again: lost a second time, as started, and failed.
    const { ex, events } = make(2);
    const a = workload("requeued");
    const gone = record("dead", {
      alive: false,
      seconds_since_heartbeat: 12,
      running: [{ ...a.ti, try_number: 1 }],
    });
    const now = Date.now();
    ex.queueWorkload(a);
    ex.handleResult({ type: "taken", key: tryKey(a), worker: "dead" });
    await ex.settleGone([gone], now);
    expect(await ex.settleGone([gone], now + 1000)).toBe(1);
    expect(events).toEqual([expect.objectContaining({ type: "lost", maybeNotStarted: true })]);
    // The scheduler found it never started and queued it again: no worker has taken it yet.
    ex.queueWorkload(a);
    for (const t of [2000, 3000, 4000, 5000]) expect(await ex.settleGone([gone], now + t)).toBe(0);
    expect(events).toHaveLength(1);
    expect(ex.tries()).toEqual([{ key: tryKey(a), worker: null }]);
    // Another worker takes it: from there, it is that worker's.
    ex.handleResult({ type: "taken", key: tryKey(a), worker: "n2" });
    expect(ex.tries()).toEqual([{ key: tryKey(a), worker: "n2" }]);
  });

  test("the alive workers' capacity (their runner pools) caps the open slots", async () => {
    const { ex } = make(10);
    const stopped = record("w3", { alive: false });
    await ex.settleGone(
      [record("w1", { concurrency: 8, capacity: 3 }), record("w2", { concurrency: 2 }), stopped],
      Date.now(),
    );
    expect(ex.openSlots()).toBe(5);
  });

  test("a try an alive worker no longer lists (its result lost) frees its slot, silently, after two checks", async () => {
    const { ex, events } = make(2);
    const a = workload("orphan");
    ex.queueWorkload(a);
    const now = Date.now();
    const w = record("w1", { running: [{ ...a.ti, try_number: 1 }] });
    await ex.settleGone([w], now); // assigned through the registry
    expect(ex.openSlots()).toBe(1);
    const idle = record("w1", { running: [] });
    await ex.settleGone([idle], now + 1000); // too soon after it was assigned
    await ex.settleGone([idle], now + 3500); // seen so once
    expect(ex.openSlots()).toBe(1);
    await ex.settleGone([idle], now + 4500);
    expect(ex.openSlots()).toBe(2);
    expect(events).toEqual([]);
  });

  test("checkWorkers reads the registry in Redis", async () => {
    const { ex, events } = make(2);
    await ex.start();
    const a = workload("reg");
    ex.queueWorkload(a);
    ex.handleResult({ type: "taken", key: tryKey(a), worker: "w-stopped" });
    await writeHeartbeat(
      redis,
      PREFIX,
      {
        id: "w-stopped",
        hostname: "h",
        pid: 1,
        queues: ["default"],
        concurrency: 1,
        state: "draining",
        running: [],
        tries_finished: 0,
        version: "t",
        server_url: null,
        started_at: new Date().toISOString(),
      },
      true,
    );
    const deadline = Date.now() + 5000;
    while (ex.openSlots() < 2 && Date.now() < deadline) {
      await ex.checkWorkers();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(events.map((e) => e.type)).toEqual(["lost"]);
    expect((events[0] as { reason: string }).reason).toMatch(/worker w-stopped \(h, pid 1\) stopped/);
  });
});
