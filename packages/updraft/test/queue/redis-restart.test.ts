// Redis killed (SIGKILL, no persistence: every queued job and registry entry gone) and restarted
// in the middle of a run: the scheduler and the worker reconnect, the run completes, no task body
// runs twice (marker file), and the worker's /health says 503 while Redis is away. Also: a bad
// queue.broker_url is refused clearly, without the password.
import { get } from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import {
  describeWithPostgres,
  freePort,
  updraft,
  type Cluster,
  type Daemon,
} from "../reliability/harness.js";
import { describeWithRedis, PrivateRedis } from "../redis-testing.js";
import { join, markerLines, queueCluster, runSucceeds, startWorker } from "./queue-cluster.js";

const TASKS = ["t1", "t2", "t3", "t4", "t5", "t6"];

function chainDag(marker: string): string {
  return `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag({ dagId: "restart_chain", schedule: null, startDate: "2026-01-01" }, () => {
  let prev: { before(o: unknown): void } | null = null;
  for (const id of ${JSON.stringify(TASKS)}) {
    const t = task({ taskId: id, retries: 2, retryDelay: 0 }, async () => {
      appendFileSync(${JSON.stringify(marker)}, id + "\\n");
      await new Promise((resolve) => setTimeout(resolve, 700));
    })();
    if (prev !== null) prev.before(t);
    prev = t;
  }
});
`;
}

function health(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/health`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

await describeWithPostgres("QueueExecutor and a Redis restart", () => {
  describeWithRedis("Redis restarted mid-run", () => {
    let redis: PrivateRedis;
    let cluster: Cluster;
    let marker: string;
    let worker: Daemon;
    let port: number;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      cluster = await queueCluster(redis.url, { UPDRAFT__SCHEDULER__TASK_QUEUED_TIMEOUT: "4" });
      marker = join(cluster.home, "marker.txt");
      cluster.writeDag("restart_chain.ts", chainDag(marker));
      cluster.reserialize();
      port = await freePort();
      [, worker] = await Promise.all([
        cluster.start(),
        startWorker(cluster, ["--queues", "default", "--concurrency", "2", "--server-port", String(port)]),
      ]);
    }, 90_000);

    afterAll(async () => {
      await cluster?.close();
      await redis?.down();
    });

    test("the run completes, no task body twice; /health is 503 while Redis is down", async () => {
      expect(await health(port)).toBe(200);
      cluster.trigger("restart_chain", "r");
      await eventually(() => (markerLines(marker).includes("t2") ? true : undefined), 30_000, "t2 to start");
      await redis.down();
      await eventually(async () => ((await health(port)) === 503 ? true : undefined), 10_000, "/health 503");
      await new Promise((r) => setTimeout(r, 1500));
      await redis.up();
      await eventually(async () => ((await health(port)) === 200 ? true : undefined), 15_000, "/health 200");
      await runSucceeds(cluster, "restart_chain", "r", 45_000);
      expect(markerLines(marker)).toEqual(TASKS);
      expect(worker.child.exitCode).toBe(null);
    }, 60_000);

    test("a bad queue.broker_url is refused clearly, the password redacted", () => {
      const r = updraft(["worker", "--server-port", "0"], {
        ...cluster.env,
        UPDRAFT__QUEUE__BROKER_URL: "redis://:hunter2secret@127.0.0.1:notaport/0",
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/QUEUE_BROKER_URL_INVALID/);
      expect(r.stderr).toContain("redis://:***@");
      expect(r.stderr + r.stdout).not.toContain("hunter2secret");
    });
  });
});
