// Heartbeats of a running try. A 409 means the server no longer considers this try running (it was
// marked failed, cleared, or given to another runner): the task must stop at once. Failed attempts
// in a row mean the runner lost the server; it stops itself before the server's heartbeat timeout
// gives the try away, so one try never runs twice (RELIABILITY.md items 3 and 4).
import { isUpdraftError } from "../common/errors.js";
import { API_CONFLICT, type ExecutionApiClient } from "./api-client.js";
import type { Interrupt } from "./process-guard.js";

/** As Airflow's `[workers] max_failed_heartbeats`. */
export const MAX_FAILED_HEARTBEATS = 3;

export interface HeartbeatOptions {
  client: ExecutionApiClient;
  intervalS: number;
  pid: number;
  hostname: string;
  interrupt(reason: Interrupt): void;
  warn(message: string): void;
}

/** Starts heartbeating; returns the function that stops it. */
export function startHeartbeat(o: HeartbeatOptions): () => void {
  const intervalMs = Math.max(50, o.intervalS * 1000);
  const requestTimeoutMs = Math.min(Math.max(1000, intervalMs), 10_000);
  let failures = 0;
  let inFlight = false;
  let stopped = false;
  const beat = async () => {
    if (inFlight || stopped) return;
    inFlight = true;
    try {
      await o.client.heartbeat({ hostname: o.hostname, pid: o.pid }, requestTimeoutMs);
      failures = 0;
    } catch (err) {
      if (stopped) return;
      if (isUpdraftError(err, API_CONFLICT)) {
        o.interrupt({ kind: "conflict" });
        return;
      }
      failures++;
      o.warn(
        `Heartbeat ${failures} of ${MAX_FAILED_HEARTBEATS} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      if (failures >= MAX_FAILED_HEARTBEATS) o.interrupt({ kind: "api_lost", error: err });
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
