// GET /metrics on the API server: protected like the API (metrics:read, held from Viewer up)
// unless metrics.prometheus_public; the body is the process's prom-client registry in the text
// format, with Airflow's names as the statsd_exporter mapping gives them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiServer, type ApiServer } from "../../src/api/index.js";
import { loadConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import { metricsFromConfig } from "../../src/metrics/index.js";
import { openTestPGlite } from "../db-testing.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { parsePrometheusText } from "../metrics/prom-text.js";
import { seedUserWithToken } from "./helpers.js";

const SECRET = "metrics-route-secret-0123456789abcdef";

async function server(database: Database, overrides: Record<string, unknown>): Promise<ApiServer> {
  const config = loadConfig({ home: tempDir(), env: {}, overrides });
  const metrics = metricsFromConfig(config);
  metrics.metrics.incr("ti_failures", 1, { dag_id: "d", task_id: "t" });
  metrics.metrics.timing("dagrun.duration.success", 1500, { dag_id: "sales_pipeline" });
  metrics.metrics.gauge("pool.open_slots", 0, { pool: "default_pool" });
  return createApiServer({ database, config, events: null, secretKey: SECRET, metrics });
}

describe("GET /metrics", () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestPGlite();
    await seedUserWithToken(database, "prom", "Viewer", "prom-token");
  });
  afterAll(async () => {
    await database.close();
    cleanupTempDirs();
  });

  it("needs credentials by default, and a Viewer may read it", async () => {
    const s = await server(database, {});
    try {
      const anon = await s.app.inject({ method: "GET", url: "/metrics" });
      expect(anon.statusCode).toBe(401);
      const res = await s.app.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: "Bearer prom-token" },
      });
      expect(res.statusCode).toBe(200);
      const m = parsePrometheusText(res.body);
      // ti_failures carries no labels: its StatsD name has none for the exporter to extract.
      expect(m.value("airflow_ti_failures")).toBe(1);
      expect(m.value("airflow_dagrun_duration_success_sum", { dag_id: "sales_pipeline" })).toBe(1.5);
      expect(m.value("airflow_dagrun_duration_success_count", { dag_id: "sales_pipeline" })).toBe(1);
      expect(m.value("airflow_pool_open_slots", { pool: "default_pool" })).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("is public with metrics.prometheus_public, and only that route", async () => {
    const s = await server(database, { "metrics.prometheus_public": true });
    try {
      const res = await s.app.inject({ method: "GET", url: "/metrics" });
      expect(res.statusCode).toBe(200);
      expect(parsePrometheusText(res.body).value("airflow_ti_failures")).toBe(1);
      expect((await s.app.inject({ method: "GET", url: "/api/v1/dags" })).statusCode).toBe(401);
    } finally {
      await s.close();
    }
  });

  it("uses metrics.statsd_prefix as the Prometheus prefix", async () => {
    const s = await server(database, {
      "metrics.prometheus_public": true,
      "metrics.statsd_prefix": "updraft",
    });
    try {
      const m = parsePrometheusText((await s.app.inject({ method: "GET", url: "/metrics" })).body);
      expect(m.value("updraft_ti_failures")).toBe(1);
      expect(m.value("airflow_ti_failures")).toBeUndefined();
    } finally {
      await s.close();
    }
  });
});
