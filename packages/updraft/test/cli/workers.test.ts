// `updraft workers list|forget` in-process against the real Redis: the command reads the registry
// with the queue.* settings of the environment (UPDRAFT__QUEUE__…), as on a user's terminal.
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.js";
import type { CliContext } from "../../src/cli/commands/context.js";
import { writeHeartbeat } from "../../src/queue/index.js";
import { closedPort, heartbeat } from "../api/workers-helpers.js";
import { describeWithRedis, testKeyPrefix, TEST_REDIS_URL } from "../redis-testing.js";

async function cli(env: Record<string, string>, ...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const ctx: CliContext = {
    io: { out: (t) => void (stdout += t), err: (t) => void (stderr += t), interactive: false },
    cwd: process.cwd(),
    argv,
    setExitCode: () => undefined,
  };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let error: unknown = null;
  try {
    await buildProgram(ctx).exitOverride().parseAsync(argv, { from: "user" });
  } catch (e) {
    error = e;
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
  return { stdout, stderr, error };
}

describeWithRedis("updraft workers", () => {
  const prefix = testKeyPrefix();
  const env = {
    UPDRAFT__CORE__EXECUTOR: "QueueExecutor",
    UPDRAFT__QUEUE__BROKER_URL: TEST_REDIS_URL,
    UPDRAFT__QUEUE__KEY_PREFIX: prefix,
  };
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await writeHeartbeat(
      redis,
      prefix,
      heartbeat({ id: "cli-a:1:x", queues: ["default", "gpu"], concurrency: 2, capacity: 1 }),
    );
    await writeHeartbeat(redis, prefix, heartbeat({ id: "cli-b:2:y" }), true);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("lists workers as a table and as JSON, with filters", async () => {
    const table = await cli(env, "workers", "list");
    expect(table.error).toBeNull();
    expect(table.stdout).toMatch(/^id\s+hostname\s+queues\s+running\s+capacity\s+state/);
    // Capacity: what the worker reports (its warm runners), else its concurrency (older workers).
    expect(table.stdout).toMatch(/cli-a:1:x\s+cli-a\s+default,gpu\s+0\/2\s+1\s+● running/);
    expect(table.stdout).toMatch(/cli-b:2:y\s+cli-b\s+default\s+0\/4\s+4\s+○ offline/);
    const json = await cli(env, "workers", "list", "--alive", "-o", "json");
    const rows = JSON.parse(json.stdout) as { id: string; state: string; capacity: number }[];
    expect(rows.map((r) => [r.id, r.state, r.capacity])).toEqual([["cli-a:1:x", "running", 1]]);
    const gpu = JSON.parse((await cli(env, "workers", "list", "--queue", "gpu", "-o", "json")).stdout);
    expect(gpu).toHaveLength(1);
  });

  it("forgets an offline worker, refuses a live one", async () => {
    const live = await cli(env, "workers", "forget", "cli-a:1:x");
    expect((live.error as { code?: string }).code).toBe("WORKER_ALIVE");
    const gone = await cli(env, "workers", "forget", "cli-b:2:y");
    expect(gone.error).toBeNull();
    expect(gone.stdout).toBe("Worker cli-b:2:y forgotten.\n");
    expect((await cli(env, "workers", "list")).stdout).not.toContain("cli-b");
  });

  it("says the QueueExecutor is not configured, and fails cleanly when Redis is unreachable", async () => {
    const local = await cli({ ...env, UPDRAFT__CORE__EXECUTOR: "LocalExecutor" }, "workers", "list");
    expect(local.error).toBeNull();
    expect(local.stderr).toContain("The QueueExecutor is not configured");
    const port = await closedPort();
    const down = await cli(
      { ...env, UPDRAFT__QUEUE__BROKER_URL: `redis://127.0.0.1:${port}/0` },
      "workers",
      "list",
    );
    expect((down.error as { code?: string }).code).toBe("WORKERS_REDIS_UNREACHABLE");
    expect((down.error as Error).message).toContain(`Redis at redis://127.0.0.1:${port}/0`);
  });
});
