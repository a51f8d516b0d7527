// The worker's small HTTP server on worker.server_port: `GET /health` for probes (liveness and
// readiness of the chart's StatefulSet) and, mounted by the caller, `/log/…` (log-server.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** What /health reports. */
export interface WorkerHealth {
  /** Connected to Redis (the worker can take work and report results). */
  connected: boolean;
  state: "starting" | "running" | "draining" | "stopped";
  id: string;
  queues: string[];
  concurrency: number;
  running: number;
  tries_finished: number;
}

/** Extra routes by path prefix, e.g. `{ "/log/": logRequestHandler(…) }`. */
export type WorkerRoutes = Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;

/**
 * `GET /health`: 200 with the JSON below when connected to Redis and running or draining; 503
 * with the same JSON otherwise (Redis unreachable, still starting, stopped).
 * `{ "status": "ok" | "unhealthy", "connected", "state", "id", "queues", "concurrency", "running", "tries_finished" }`
 */
export function healthAnswer(h: WorkerHealth): { status: number; body: Record<string, unknown> } {
  const ok = h.connected && (h.state === "running" || h.state === "draining");
  return { status: ok ? 200 : 503, body: { status: ok ? "ok" : "unhealthy", ...h } };
}

export async function startWorkerServer(
  port: number,
  host: string,
  health: () => WorkerHealth,
  routes: WorkerRoutes = {},
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && path === "/health") {
      const { status, body } = healthAnswer(health());
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
      return;
    }
    for (const [prefix, handler] of Object.entries(routes)) {
      if (path.startsWith(prefix)) {
        handler(req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
        return;
      }
    }
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("Not found: the worker serves GET /health (and /log/… when mounted).\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as { port: number };
  return { server, url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}` };
}
