// The hand-back of a try lost with its worker before it started (decision 0025 §4a), as Redis
// remembers it: a try goes back to the queue once, whichever scheduler (or a restarted one) sees
// the loss, and the worker it was lost with is kept so that its last heartbeat does not claim the
// try again.
import type { Redis } from "ioredis";
import type { WorkerRecord } from "../../queue/index.js";
import type { ExecutorLogger } from "../executor.js";
import type { InFlight, LostTries, LostTry } from "./lost-tries.js";
import { HANDED_BACK_TTL_S, handedBackKey } from "./protocol.js";

/**
 * A try handed back by a scheduler since restarted (or another one) waits for a worker; the gone
 * worker it was lost with still lists it in its last heartbeat. Which worker that was is read
 * from the hand-back's key, so that the registry does not pin the try on it again (lost a
 * second time before any worker took it). Only for tries a gone worker lists: rare, cheap.
 */
export async function recallLostWith(
  client: Redis,
  prefix: string,
  lostTries: LostTries,
  inFlight: ReadonlyMap<string, InFlight>,
  records: WorkerRecord[],
): Promise<void> {
  const keys = lostTries.listedByGoneWorkers(inFlight, records);
  if (keys.length === 0) return;
  const workloads = keys.map((k) => inFlight.get(k)?.workload);
  const values = await client.mget(
    ...workloads.map((w) => (w === undefined ? `${prefix}:~none` : handedBackKey(prefix, w))),
  );
  keys.forEach((key, i) => {
    const worker = values[i];
    if (worker !== null && worker !== undefined) lostTries.lostWithElsewhere(key, worker);
  });
}

/**
 * Which of these tries (each lost with its worker, maybe before it started) may go back to the
 * queue: those no scheduler handed back before (decision 0025 §4a). The fact is kept in Redis
 * (SET NX, HANDED_BACK_TTL_S) so that a restarted scheduler, or another one, does not hand the
 * same try back a second time. Redis not answering falls back to this process's memory.
 */
export async function claimHandBacks(
  client: Redis | null,
  prefix: string,
  tries: readonly LostTry[],
  logger: ExecutorLogger,
): Promise<Set<string>> {
  const first = new Set(tries.map((l) => l.key));
  if (tries.length === 0 || client === null) return first;
  const multi = client.multi();
  // The value is the worker it was lost with (see recallLostWith).
  for (const l of tries)
    multi.set(handedBackKey(prefix, l.workload), l.worker, "EX", HANDED_BACK_TTL_S, "NX");
  try {
    const replies = (await multi.exec()) ?? [];
    tries.forEach((l, i) => {
      const [err, reply] = replies[i] ?? [null, "OK"];
      if (err === null && reply === null) first.delete(l.key);
    });
  } catch (err) {
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "could not record in Redis that lost tries go back to the queue; relying on this scheduler's memory",
    );
  }
  return first;
}
