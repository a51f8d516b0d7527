// GET/DELETE /api/v1/workers and "no worker serves queue X", against the real Redis: entries are
// written with the workers' own writeHeartbeat under this file's key prefix (queue.key_prefix),
// and a Redis that does not answer (a closed port) must be a quick 503 naming it.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeHeartbeat } from "../../src/queue/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { describeWithRedis, testKeyPrefix, TEST_REDIS_URL } from "../redis-testing.js";
import { closedPort, heartbeat } from "./workers-helpers.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  seedUserWithToken,
  startTestServer,
  type TestServer,
} from "./helpers.js";

const auth = { authorization: `Bearer ${API_TOKEN}` };

const queueConfig = (prefix: string) => ({
  "core.executor": "QueueExecutor",
  "queue.broker_url": TEST_REDIS_URL,
  "queue.key_prefix": prefix,
  "worker.stale_after": 30,
});

withTestDatabases(
  "workers API",
  (getDb) => {
    describeWithRedis("with Redis", () => {
      const prefix = testKeyPrefix();
      let redis: Redis;
      let t: TestServer;
      beforeAll(async () => {
        redis = new Redis(TEST_REDIS_URL);
        await seedUserWithToken(getDb(), "w-viewer", "Viewer", "token-w-viewer");
        await seedUserWithToken(getDb(), "w-op", "Op", "token-w-op");
        t = await startTestServer(getDb(), { overrides: queueConfig(prefix) });
        await writeHeartbeat(
          redis,
          prefix,
          heartbeat({
            id: "host-a:1:x",
            concurrency: 8,
            capacity: 6,
            running: [{ dag_id: "d", run_id: "r", task_id: "t", map_index: -1, try_number: 2 }],
            tries_finished: 5,
          }),
        );
        await writeHeartbeat(
          redis,
          prefix,
          heartbeat({ id: "host-b:2:y", queues: ["default", "gpu"], state: "draining" }),
        );
        await writeHeartbeat(redis, prefix, heartbeat({ id: "host-c:3:z", queues: ["etl"] }), true);
      });
      afterAll(async () => {
        await t.server.close();
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      });
      const get = (url: string, headers = auth) => t.server.app.inject({ method: "GET", url, headers });

      it("lists every worker with what it serves and runs, live ones first", async () => {
        const res = await get("/api/v1/workers");
        expect(res.statusCode, res.body).toBe(200);
        const body = res.json();
        expect(body.queue_executor).toBe(true);
        expect(body.message).toBeNull();
        expect(body.total_entries).toBe(3);
        expect(body.workers.map((w: { id: string; state: string }) => [w.id, w.state])).toEqual([
          ["host-a:1:x", "running"],
          ["host-b:2:y", "draining"],
          ["host-c:3:z", "offline"],
        ]);
        expect(body.workers[0]).toMatchObject({
          hostname: "host-a",
          pid: 100,
          queues: ["default"],
          concurrency: 8,
          capacity: 6,
          running: [{ dag_id: "d", run_id: "r", task_id: "t", map_index: -1, try_number: 2 }],
          tries_finished: 5,
          version: "0.1.0",
          server_url: null,
        });
        // A worker that reports no capacity (an older one) can start `concurrency` tries.
        expect(body.workers[1].capacity).toBe(body.workers[1].concurrency);
        expect(body.workers[0].seconds_since_heartbeat).toBeLessThan(10);
        expect(Date.parse(body.workers[0].last_seen)).not.toBeNaN();
      });

      it("filters by queue and by liveness, and pages", async () => {
        const gpu = (await get("/api/v1/workers?queue=gpu")).json();
        expect(gpu.workers.map((w: { id: string }) => w.id)).toEqual(["host-b:2:y"]);
        const offline = (await get("/api/v1/workers?alive=false")).json();
        expect(offline.workers.map((w: { id: string }) => w.id)).toEqual(["host-c:3:z"]);
        const alive = (await get("/api/v1/workers?alive=true")).json();
        expect(alive.total_entries).toBe(2);
        const page = (await get("/api/v1/workers?limit=1&offset=1")).json();
        expect(page.total_entries).toBe(3);
        expect(page.workers.map((w: { id: string }) => w.id)).toEqual(["host-b:2:y"]);
        expect((await get("/api/v1/workers?alive=maybe")).statusCode).toBe(400);
      });

      it("gets one worker, and 404s an unknown one", async () => {
        const one = await get("/api/v1/workers/host-b:2:y");
        expect(one.statusCode).toBe(200);
        expect(one.json()).toMatchObject({ id: "host-b:2:y", state: "draining", queues: ["default", "gpu"] });
        const missing = await get("/api/v1/workers/nope");
        expect(missing.statusCode).toBe(404);
        expect(missing.json().code).toBe("WORKER_NOT_FOUND");
      });

      it("lets a Viewer read, and only Op or Admin forget an offline worker (never a live one)", async () => {
        expect((await get("/api/v1/workers", { authorization: "Bearer token-w-viewer" })).statusCode).toBe(
          200,
        );
        const del = (id: string, token: string) =>
          t.server.app.inject({
            method: "DELETE",
            url: `/api/v1/workers/${id}`,
            headers: { authorization: `Bearer ${token}` },
          });
        const viewer = await del("host-c:3:z", "token-w-viewer");
        expect(viewer.statusCode).toBe(403);
        expect(viewer.json().detail).toContain("workers:delete");
        const alive = await del("host-a:1:x", "token-w-op");
        expect(alive.statusCode).toBe(409);
        expect(alive.json().code).toBe("WORKER_ALIVE");
        expect((await del("host-c:3:z", "token-w-op")).statusCode).toBe(204);
        expect((await get("/api/v1/workers/host-c:3:z")).statusCode).toBe(404);
        expect((await get("/api/v1/workers")).json().total_entries).toBe(2);
      });
    });

    describe("without the QueueExecutor or without Redis", () => {
      it("answers an empty list saying the QueueExecutor is not configured", async () => {
        const t = await startTestServer(getDb(), { overrides: { "core.executor": "LocalExecutor" } });
        try {
          const res = await t.server.app.inject({ method: "GET", url: "/api/v1/workers", headers: auth });
          expect(res.statusCode).toBe(200);
          expect(res.json()).toMatchObject({ workers: [], total_entries: 0, queue_executor: false });
          expect(res.json().message).toContain("QueueExecutor is not configured");
        } finally {
          await t.server.close();
        }
      });

      it("answers 503 naming Redis (password hidden) within seconds when Redis is unreachable", async () => {
        const port = await closedPort();
        const t = await startTestServer(getDb(), {
          overrides: {
            ...queueConfig(testKeyPrefix()),
            "queue.broker_url": `redis://:hunter2secret@127.0.0.1:${port}/0`,
          },
        });
        try {
          const started = Date.now();
          const res = await t.server.app.inject({ method: "GET", url: "/api/v1/workers", headers: auth });
          expect(Date.now() - started).toBeLessThan(6_000);
          expect(res.statusCode, res.body).toBe(503);
          expect(res.headers["content-type"]).toContain("application/problem+json");
          expect(res.json().code).toBe("WORKERS_REDIS_UNREACHABLE");
          expect(res.json().detail).toContain(`Redis at redis://:***@127.0.0.1:${port}/0`);
          expect(res.body).not.toContain("hunter2secret");
          // Asked again (the client kept, reconnecting behind): still a quick 503.
          const again = await t.server.app.inject({ method: "GET", url: "/api/v1/workers", headers: auth });
          expect(again.statusCode).toBe(503);
        } finally {
          await t.server.close();
        }
      });
    });

    describeWithRedis("why a queued task does not run", () => {
      const dagId = "gpu_dag";
      const run = "manual__2024-06-01T00:00:00+00:00";
      let redis: Redis;
      beforeAll(async () => {
        redis = new Redis(TEST_REDIS_URL);
        await saveTestDag(getDb(), makeDag(dagId, [{ id: "train", task: { queue: "gpu" } }]));
        await triggerDagRun(
          getDb().db,
          { dagId, runId: run, logicalDate: "2024-06-01T00:00:00Z" },
          { events: null, defaultTimezone: "UTC" },
        );
        await getDb()
          .db.updateTable("dag_run")
          .set({ state: "running" })
          .where("dag_id", "=", dagId)
          .execute();
        await getDb()
          .db.updateTable("task_instance")
          .set({ state: "queued", queue: "gpu", try_number: 1 })
          .where("dag_id", "=", dagId)
          .execute();
      });
      afterAll(() => redis.disconnect());

      async function explain(prefix: string) {
        const t = await startTestServer(getDb(), { overrides: queueConfig(prefix) });
        try {
          const res = await t.server.app.inject({
            method: "GET",
            url: `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(run)}/taskInstances/train/dependencies`,
            headers: auth,
          });
          expect(res.statusCode, res.body).toBe(200);
          return res.json() as { dependencies: { name: string; reason: string }[]; message: string };
        } finally {
          await t.server.close();
          const keys = await redis.keys(`${prefix}:*`);
          if (keys.length > 0) await redis.del(...keys);
        }
      }

      it("names the queues the live workers serve and the command that serves the task's", async () => {
        const prefix = testKeyPrefix();
        await writeHeartbeat(redis, prefix, heartbeat({ id: "h1:1:a" }));
        await writeHeartbeat(redis, prefix, heartbeat({ id: "h2:2:b", queues: ["default", "etl"] }));
        const r = await explain(prefix);
        expect(r.dependencies).toEqual([
          {
            name: "Worker Serving Queue",
            reason:
              "No worker serves queue gpu: the 2 live workers serve default, etl. Start one with `updraft worker --queues gpu`.",
          },
        ]);
        expect(r.message).toContain("no live worker takes work from that queue");
      });

      it("says no worker is alive when none is, and nothing when one serves the queue", async () => {
        const none = testKeyPrefix();
        await writeHeartbeat(redis, none, heartbeat({ id: "gone:1:a", queues: ["gpu"] }), true);
        const r = await explain(none);
        expect(r.dependencies[0]?.reason).toBe(
          "No worker is alive to serve queue gpu (none has heartbeated in the last 30 s). Start one with `updraft worker --queues gpu`.",
        );
        const served = testKeyPrefix();
        await writeHeartbeat(redis, served, heartbeat({ id: "g:1:a", queues: ["gpu"] }));
        const ok = await explain(served);
        expect(ok.dependencies).toEqual([]);
        expect(ok.message).toContain("'queued' state");
      });
    });
  },
  { dialects: ["pglite"] },
);
