// Shared by the workers' API tests: registry entries as a worker writes them, and a closed port.
import { createServer } from "node:net";
import type { WorkerHeartbeat } from "../../src/queue/index.js";

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
export async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
