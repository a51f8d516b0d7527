// The logs route reading a try's log from the worker that ran it (no shared log folder): a real
// worker log server on loopback, found through the registry in the real Redis by the hostname
// the task instance recorded; failures are one line of the log, never an error answer.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { writeHeartbeat } from "../../src/queue/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { logRequestHandler } from "../../src/worker/log-server.js";
import { withTestDatabases } from "../db-testing.js";
import { describeWithRedis, testKeyPrefix, TEST_REDIS_URL } from "../redis-testing.js";
import { API_TOKEN, SECRET, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";
import { closedPort, heartbeat } from "./workers-helpers.js";

const auth = { authorization: `Bearer ${API_TOKEN}` };
const DAG = "remote_log_dag";

async function logServer(base: string, secret: string): Promise<{ server: Server; url: string }> {
  const handler = logRequestHandler({ baseLogFolder: base, secretKey: secret });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

withTestDatabases(
  "logs of tries run on workers",
  (getDb) => {
    describeWithRedis("with Redis", () => {
      const prefix = testKeyPrefix();
      const workerFolder = mkdtempSync(join(tmpdir(), "updraft-worker-logs-"));
      const text = Array.from({ length: 200 }, (_, i) => `worker log line ${i} é\n`).join("");
      let redis: Redis;
      let t: TestServer;
      let good: { server: Server; url: string };
      let wrongKey: { server: Server; url: string };

      /** A run whose task `a` had one try on `host`, with `text` as its log in the worker's folder. */
      async function runOn(runId: string, host: string): Promise<string> {
        await triggerDagRun(getDb().db, { dagId: DAG, runId });
        await getDb()
          .db.updateTable("task_instance")
          .set({ try_number: 1, state: "success", hostname: host })
          .where("run_id", "=", runId)
          .execute();
        const file = join(
          workerFolder,
          taskLogRelativePath({ dag_id: DAG, run_id: runId, task_id: "a", map_index: -1 }, 1),
        );
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
        return `/api/v1/dags/${DAG}/dagRuns/${encodeURIComponent(runId)}/taskInstances/a/logs/1`;
      }

      beforeAll(async () => {
        redis = new Redis(TEST_REDIS_URL);
        await saveTestDag(getDb(), makeDag(DAG, [{ id: "a" }]));
        good = await logServer(workerFolder, SECRET);
        wrongKey = await logServer(workerFolder, "not-the-api-servers-secret-key");
        const down = `http://127.0.0.1:${await closedPort()}`;
        await writeHeartbeat(redis, prefix, heartbeat({ id: "w-good:1:a", server_url: good.url }));
        await writeHeartbeat(redis, prefix, heartbeat({ id: "w-key:1:a", server_url: wrongKey.url }));
        await writeHeartbeat(redis, prefix, heartbeat({ id: "w-down:1:a", server_url: down }));
        t = await startTestServer(getDb(), {
          overrides: {
            "core.executor": "QueueExecutor",
            "queue.broker_url": TEST_REDIS_URL,
            "queue.key_prefix": prefix,
          },
        });
      });
      afterAll(async () => {
        await t.server.close();
        await new Promise((r) => good.server.close(r));
        await new Promise((r) => wrongKey.server.close(r));
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      });
      const get = (url: string, headers: Record<string, string> = auth) =>
        t.server.app.inject({ method: "GET", url, headers });

      it("reads the log from the worker of the task instance's host, whole, chunked and as plain text", async () => {
        const url = await runOn("r-good", "w-good");
        const head = `*** Reading from worker w-good at ${good.url} (the log file is not on the API server)\n`;
        const res = await get(url);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toEqual({ content: head + text, continuation_token: null });

        // 1 KiB chunks, each continuing where the last stopped, add up to the same text.
        let token: string | null = "";
        let all = "";
        let chunks = 0;
        while (token !== null && chunks < 20) {
          const r = await get(`${url}?max_bytes=1024${token === "" ? "" : `&token=${token}`}`);
          const body = r.json<{ content: string; continuation_token: string | null }>();
          expect(Buffer.byteLength(body.content)).toBeLessThanOrEqual(1024);
          expect(body.content).not.toContain("\uFFFD");
          all += body.content;
          token = body.continuation_token;
          chunks++;
        }
        expect(chunks).toBeGreaterThan(3);
        expect(all).toBe(head + text);

        const plain = await get(url, { ...auth, accept: "text/plain" });
        expect(plain.body).toBe(head + text);
      });

      it("turns a worker that is down or refuses the token into one line of the log", async () => {
        const down = await get(await runOn("r-down", "w-down"));
        expect(down.statusCode).toBe(200);
        expect(down.json().content).toMatch(
          /^\*\*\* Could not read the log of try 1 from worker w-down at .*ECONNREFUSED/,
        );
        expect(down.json().content.trim().split("\n")).toHaveLength(1);
        const refused = await get(await runOn("r-key", "w-key"));
        expect(refused.statusCode).toBe(200);
        expect(refused.json().content).toContain("the worker answered 401");
        expect(refused.json().content).toContain("must share api.secret_key");
      });

      it("picks, of two workers on one host, the one that runs the try", async () => {
        const url = await runOn("r-twin", "w-twin");
        await writeHeartbeat(
          redis,
          prefix,
          heartbeat({
            id: "w-twin:1:runs-it",
            server_url: good.url,
            running: [{ dag_id: DAG, run_id: "r-twin", task_id: "a", map_index: -1, try_number: 1 }],
          }),
        );
        // Newer, alive, but not running the try: it would be picked by liveness alone.
        await writeHeartbeat(redis, prefix, heartbeat({ id: "w-twin:2:other", server_url: wrongKey.url }));
        const res = await get(url);
        expect(res.json().content).toContain(`*** Reading from worker w-twin at ${good.url}`);
        expect(res.json().content).toContain("worker log line 199");
      });

      it("404s with a hint when the host has no worker in the registry", async () => {
        const res = await get(await runOn("r-unknown", "no-such-host"));
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe("LOG_NOT_FOUND");
        expect(res.json().detail).toContain(
          "It ran on no-such-host, and no worker of that host is in the workers' registry",
        );
      });
    });
  },
  { dialects: ["pglite"] },
);
