// For `npm run bench -- engine --executor queue`: `updraft worker` processes beside the engine
// (the QueueExecutor's workers, issue 12), and BullMQ's bare figure on the same Redis.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

const BIN = join(import.meta.dirname, "..", "..", "packages", "updraft", "bin", "updraft.js");
export const BENCH_REDIS_URL = process.env.UPDRAFT_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/0";

export function benchKeyPrefix() {
  return `updraft-bench-${randomBytes(4).toString("hex")}`;
}

/** Starts `count` workers on queue `default`; resolves once all take work. */
export async function startQueueWorkers({ home, prefix, count = 2, concurrency = 8 }) {
  const children = [];
  await Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(
        process.execPath,
        [
          // UPDRAFT_BENCH_CPU_PROF=DIR: a V8 CPU profile of each worker process (not its runners) in DIR.
          ...(process.env.UPDRAFT_BENCH_CPU_PROF
            ? ["--cpu-prof", `--cpu-prof-dir=${process.env.UPDRAFT_BENCH_CPU_PROF}`]
            : []),
          BIN,
          "worker",
          "--queues",
          "default",
          "--concurrency",
          String(concurrency),
        ],
        {
          env: {
            ...process.env,
            UPDRAFT_HOME: home,
            UPDRAFT__QUEUE__BROKER_URL: BENCH_REDIS_URL,
            UPDRAFT__QUEUE__KEY_PREFIX: prefix,
            UPDRAFT__WORKER__SERVER_PORT: "0",
            UPDRAFT_LOG_LEVEL: "warn",
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      children.push(child);
      let out = "";
      return new Promise((resolve, reject) => {
        child.stderr.on("data", (d) => {
          out += d.toString();
          if (/is taking work/.test(out)) resolve();
        });
        child.once("exit", (code) => reject(new Error(`updraft worker exited ${code}:\n${out}`)));
      });
    }),
  );
  return {
    /** The worker processes' pids (their runner processes are their children). */
    pids: children.map((c) => c.pid),
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise((resolve) => {
              if (c.exitCode !== null) return resolve();
              c.once("exit", resolve);
              c.kill("SIGTERM");
            }),
        ),
      );
    },
  };
}

/**
 * BullMQ alone on the same Redis: chain100 (each job's processor adds the next) and throughput
 * (10,000 no-op jobs, two workers of concurrency 8). Medians of `reps`.
 */
export async function bareBullmq(reps = 3) {
  const { Queue, Worker } = await import("bullmq");
  const { Redis } = await import("ioredis");
  const url = new URL(BENCH_REDIS_URL);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  const prefix = benchKeyPrefix();
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
  const queue = new Queue("bench", { connection, prefix });
  let done = () => {};
  let count = 0;
  let target = 0;
  const processor = async (job) => {
    if (job.name === "c" && job.data.i + 1 < 100)
      await queue.add("c", { i: job.data.i + 1 }, { removeOnComplete: true });
    if (++count === target) done();
  };
  const workers = [1, 2].map(() => new Worker("bench", processor, { connection, prefix, concurrency: 8 }));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const chain = [];
  const tput = [];
  for (let r = 0; r <= reps; r++) {
    count = 0;
    target = 100;
    let t0 = performance.now();
    await new Promise((resolve) => {
      done = resolve;
      void queue.add("c", { i: 0 }, { removeOnComplete: true });
    });
    if (r > 0) chain.push(performance.now() - t0);
    count = 0;
    target = 10_000;
    t0 = performance.now();
    await new Promise((resolve) => {
      done = resolve;
      void queue.addBulk(
        Array.from({ length: 10_000 }, (_, i) => ({
          name: "t",
          data: { i },
          opts: { removeOnComplete: true },
        })),
      );
    });
    if (r > 0) tput.push(10_000 / ((performance.now() - t0) / 1000));
  }
  await Promise.all(workers.map((w) => w.close()));
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  const redis = new Redis(connection);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  return { chain100_ms: +med(chain).toFixed(1), throughput_tasks_per_s: +med(tput).toFixed(0) };
}
