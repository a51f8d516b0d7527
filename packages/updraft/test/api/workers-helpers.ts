// Shared by the workers' API tests: registry entries as a worker writes them, and a closed port.
import type { WorkerHeartbeat } from "../../src/queue/index.js";
import { freePort } from "../redis-testing.js";

export function heartbeat(over: Partial<WorkerHeartbeat> & { id: string }): WorkerHeartbeat {
  return {
    hostname: over.id.split(":")[0] ?? "host",
    pid: 100,
    queues: ["default"],
    concurrency: 4,
    state: "running",
    running: [],
    tries_finished: 0,
    version: "0.1.0",
    server_url: null,
    started_at: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}

/** A TCP port nothing listens on (bound, then closed). */
export const closedPort = freePort;
