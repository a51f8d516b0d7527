import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sql } from "kysely";
import { z } from "zod";
import type { Database } from "../../db/index.js";
import { route } from "./common.js";

/** Each component: its status, and (but the database) its latest heartbeat as `latest_<name>_heartbeat`. */
const Health = z.record(z.string(), z.record(z.string(), z.string().nullable())).meta({ id: "HealthInfo" });

/** The components this version of Updraft runs, each a `job` row with heartbeats. */
const COMPONENTS = ["scheduler", "dag_processor", "triggerer"] as const;

/**
 * Components a deployment may run without: with no job row ever, their status is null (as
 * Airflow reports a triggerer that never ran) rather than "unhealthy", which would page for nothing.
 */
const OPTIONAL: ReadonlySet<string> = new Set(["triggerer"]);

/**
 * Airflow's `/health`: the metadata database answers, and each component's latest heartbeat is
 * recent (by the database's clock). Needs no credentials; says nothing secret.
 */
export function healthRoutes(database: Database, thresholdS: number) {
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const handler = async () => {
      const out: Record<string, Record<string, string | null>> = {};
      try {
        const rows = await sql<{ job_type: string; latest: Date; healthy: boolean }>`
          select job_type, max(latest_heartbeat) as latest,
            bool_or(latest_heartbeat > now() - make_interval(secs => ${thresholdS})) as healthy
          from job where state = 'running'
            and job_type in (select jsonb_array_elements_text(${JSON.stringify(COMPONENTS)}::jsonb))
          group by job_type`.execute(database.db);
        out["metadatabase"] = { status: "healthy" };
        for (const c of COMPONENTS) {
          const r = rows.rows.find((x) => x.job_type === c);
          out[c] = {
            status: r?.healthy === true ? "healthy" : r === undefined && OPTIONAL.has(c) ? null : "unhealthy",
            [`latest_${c}_heartbeat`]: r === undefined ? null : r.latest.toISOString(),
          };
        }
      } catch {
        out["metadatabase"] = { status: "unhealthy" };
        for (const c of COMPONENTS) out[c] = { status: null, [`latest_${c}_heartbeat`]: null };
      }
      return out;
    };
    const schema = { response: { 200: Health } };
    app.get(
      "/api/v1/health",
      route("get_health", "Health of each component", ["Monitoring"], schema),
      handler,
    );
    app.get("/health", route("get_health_root", "Health of each component", ["Monitoring"], schema), handler);
  };
}
