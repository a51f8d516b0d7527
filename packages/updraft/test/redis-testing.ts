// Redis for tests (issue 12): the machine's Redis on 127.0.0.1:6379 (UPDRAFT_TEST_REDIS_URL to
// change), each test file under its own key prefix so files never see each other's queues; and,
// for tests that restart Redis mid-run, a private redis-server on a free port that the test owns.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { describe, it } from "vitest";
import { UpdraftError } from "../src/common/errors.js";

export const TEST_REDIS_URL = process.env["UPDRAFT_TEST_REDIS_URL"] ?? "redis://127.0.0.1:6379/0";

async function probe(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return `Redis at ${url} is unreachable (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    redis.disconnect();
  }
}

const problem = await probe(TEST_REDIS_URL);

/** A key prefix no other test file uses: `updraft-test-<random>`. */
export function testKeyPrefix(): string {
  return `updraft-test-${randomBytes(4).toString("hex")}`;
}

/**
 * Declares `body` as a suite that needs Redis. Without Redis it fails under CI=true and is
 * skipped with the reason printed otherwise (a laptop without Redis).
 */
export function describeWithRedis(title: string, body: () => void): void {
  if (problem === null) {
    describe(title, body);
    return;
  }
  if (process.env["CI"] === "true") {
    describe(title, () => {
      it("needs Redis", () => {
        throw new UpdraftError("TEST_REDIS_UNREACHABLE", `${problem}. CI must run the Redis suites.`);
      });
    });
    return;
  }
  console.warn(
    `SKIPPED ${title}: ${problem}. Start redis-server on 127.0.0.1:6379 or set UPDRAFT_TEST_REDIS_URL.`,
  );
  // Outside CI only, with the reason printed above.
  describe.skip(title, body);
}

/** A TCP port free on loopback now (bound, then closed): nothing listens on it until you do. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A redis-server this test owns (no persistence), to stop and start again mid-run. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  /** Starts redis-server on the same port; resolves once it answers PING. */
  async up(): Promise<void> {
    if (this.child !== null) return;
    this.child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 100; i++) {
      if ((await probe(this.url)) === null) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not answer within 5 s`);
  }

  /** Kills redis-server (SIGKILL: a crash, everything in memory lost). */
  async down(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      c.once("close", () => resolve());
      c.kill("SIGKILL");
    });
  }
}
