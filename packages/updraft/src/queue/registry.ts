// The workers' registry in Redis: each `updraft worker` writes its heartbeat here (hostname,
// queues, concurrency, running tries); the QueueExecutor reads it to find tries whose worker is
// gone, the API server to list workers and to explain a try no worker will take. Times are
// Redis's own clock (TIME), so that machines with skewed clocks agree on who is stale.
import type { Redis } from "ioredis";

/** One try a worker runs. */
export interface WorkerTry {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
}

/** What a worker writes with each heartbeat. */
export interface WorkerHeartbeat {
  /** Unique per worker process: `hostname:pid:random`. */
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  /**
   * Tries the worker can start at once now: its warm runner pool, at most `concurrency` (absent
   * from older workers: `concurrency`). Schedulers queue no more than the alive workers' sum.
   */
  capacity?: number;
  /** `running` takes work; `draining` finishes its tries after SIGTERM and takes none. */
  state: "running" | "draining";
  running: WorkerTry[];
  /** Tries finished since the worker started. */
  tries_finished: number;
  version: string;
  /** Where the API server reaches the worker's HTTP server (/health, /log/…), or null when it has none. */
  server_url: string | null;
  /** ISO time the worker started. */
  started_at: string;
}

/** A registry entry as readers see it. */
export interface WorkerRecord extends WorkerHeartbeat {
  /** ISO time of the last heartbeat (Redis's clock). */
  last_seen: string;
  /** Seconds since the last heartbeat (Redis's clock). */
  seconds_since_heartbeat: number;
  /** False once the worker has not heartbeated for `stale_after` seconds or has stopped. */
  alive: boolean;
  /** True once the worker said it exited (clean stop). */
  stopped: boolean;
}

/** Entries stay this long after their last heartbeat (listed offline), then Redis drops them. */
const KEEP_S = 3600;

function keys(prefix: string) {
  // `~` cannot appear in a queue name (connection.ts), so these never collide with BullMQ's keys.
  return { index: `${prefix}:~workers`, entry: (id: string) => `${prefix}:~worker:${id}` };
}

async function redisNowMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Writes a heartbeat (or, with `stopped`, the worker's last word). */
export async function writeHeartbeat(
  redis: Redis,
  prefix: string,
  hb: WorkerHeartbeat,
  stopped = false,
): Promise<void> {
  const k = keys(prefix);
  const now = await redisNowMs(redis);
  await redis
    .multi()
    .set(k.entry(hb.id), JSON.stringify({ ...hb, last_seen_ms: now, stopped }), "EX", KEEP_S)
    .zadd(k.index, now, hb.id)
    .zremrangebyscore(k.index, "-inf", now - KEEP_S * 1000)
    .exec();
}

/** Every worker seen within the last hour, alive or not, newest heartbeat first. */
export async function listWorkers(
  redis: Redis,
  prefix: string,
  staleAfterS: number,
): Promise<WorkerRecord[]> {
  const k = keys(prefix);
  const now = await redisNowMs(redis);
  const ids = await redis.zrevrangebyscore(k.index, "+inf", now - KEEP_S * 1000);
  if (ids.length === 0) return [];
  const raw = await redis.mget(...ids.map((id) => k.entry(id)));
  const out: WorkerRecord[] = [];
  for (const text of raw) {
    if (text === null) continue;
    const e = JSON.parse(text) as WorkerHeartbeat & { last_seen_ms: number; stopped: boolean };
    const { last_seen_ms: seen, ...hb } = e;
    const since = Math.max(0, (now - seen) / 1000);
    out.push({
      ...hb,
      last_seen: new Date(seen).toISOString(),
      seconds_since_heartbeat: Math.round(since * 10) / 10,
      alive: !e.stopped && since < staleAfterS,
    });
  }
  return out;
}

/** Removes a worker's entry (an operator's `workers remove`, or tests). */
export async function forgetWorker(redis: Redis, prefix: string, id: string): Promise<boolean> {
  const k = keys(prefix);
  const [[, n]] = (await redis.multi().del(k.entry(id)).zrem(k.index, id).exec()) as [[unknown, number]];
  return n > 0;
}
