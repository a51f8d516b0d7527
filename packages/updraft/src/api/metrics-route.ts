// GET /metrics: this process's Prometheus registry (Airflow's names as the statsd_exporter maps
// them, plus Node's process metrics) in the text exposition format. Needs metrics:read unless
// metrics.prometheus_public (then it is public: see auth/public-routes.ts). Decision 0018.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ProcessMetrics } from "../metrics/index.js";
import { problem, sendProblem } from "./problem.js";
import { route } from "./rest/common.js";

export function metricsRoutes(metrics: ProcessMetrics | null) {
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = {
      response: { 200: z.string().describe("Prometheus text exposition format 0.0.4") },
    };
    app.get(
      "/metrics",
      route("get_metrics", "Metrics in Prometheus text format", ["Monitoring"], schema),
      async (_request, reply) => {
        const prometheus = metrics?.prometheus ?? null;
        if (prometheus === null) {
          return sendProblem(
            reply,
            problem(
              404,
              "NOT_FOUND",
              "Prometheus metrics are off in this process: set metrics.prometheus_on = true (env UPDRAFT__METRICS__PROMETHEUS_ON=true).",
            ),
          );
        }
        const text = await prometheus.registry.metrics();
        return reply.type(prometheus.registry.contentType).send(text);
      },
    );
  };
}
