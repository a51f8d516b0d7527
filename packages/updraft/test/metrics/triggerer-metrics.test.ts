// The triggerer's metrics (Airflow's names) with real parts: an engine with the API server and a
// triggerer on in-memory PGlite holds three deferred tasks' triggers — one due (it fires), one due
// next year (it keeps running), one whose kwargs are bad (it fails) — while a real UDP socket
// receives the StatsD lines and GET /metrics is scraped. The test then blocks the event loop the
// triggerer shares for 0.5 s, which Airflow counts as triggers.blocked_main_thread.
import { sql } from "kysely";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import type { Database } from "../../src/db/index.js";
import { seedUserWithToken } from "../api/helpers.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";
import { seedDeferred } from "../triggerer/seed-deferred.js";
import { parsePrometheusText } from "./prom-text.js";
import { listenUdp, until, type Udp } from "./udp.js";

const CAPACITY = 50;

describe("triggerer metrics over StatsD and at GET /metrics", () => {
  let udp: Udp;
  let t: TestEngine;
  let engine: Engine;
  let database: Database;
  beforeAll(async () => {
    udp = await listenUdp();
    t = await startTestEngine({
      name: "trigger-metrics",
      overrides: {
        "triggerer.capacity": CAPACITY,
        "triggerer.heartbeat_interval": 0.2,
        "triggerer.poll_interval": 0.2,
        "metrics.statsd_on": true,
        "metrics.statsd_host": "127.0.0.1",
        "metrics.statsd_port": udp.port,
        "metrics.prometheus_on": true,
      },
      seed: async (database) => {
        const now = Date.now();
        await seedDeferred(database.db, "trigger_metrics", 3, (i) =>
          i === 1 ? new Date(now - 1000) : new Date(now + 365 * 86_400_000),
        );
        await sql`update trigger set kwargs = '{"moment": "not a date"}'::jsonb
          where id = (select trigger_id from task_instance where dag_id = 'trigger_metrics' and task_id = 't3')`.execute(
          database.db,
        );
      },
      parts: { scheduler: false, processor: false, triggerer: true },
      awaitFirstParse: false,
    });
    ({ engine, database } = t);
    await seedUserWithToken(database, "scraper", "Viewer", "scraper-token");
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    udp?.socket.close();
  });

  const has = (re: RegExp) => udp.lines.some((l) => re.test(l));
  const host = hostname()
    .replace(/[:|@#\s]/g, "_")
    .replace(/\./g, "\\.");

  it("sends the running and capacity gauges per triggerer, the fired and failed counts and heartbeats", async () => {
    const wanted = [
      /^airflow\.triggers\.succeeded:1\|c$/,
      /^airflow\.triggers\.failed:1\|c$/,
      /^airflow\.triggerer_heartbeat:1\|c$/,
      // Once the fired and the failed trigger are settled, one runs on.
      new RegExp(`^airflow\\.triggers\\.running\\.${host}:1\\|g$`),
      new RegExp(`^airflow\\.triggerer\\.capacity_left\\.${host}:${CAPACITY - 1}\\|g$`),
    ];
    await until("every triggerer name over UDP", () => (wanted.every(has) ? true : undefined), 20_000).catch(
      () => {
        const missing = wanted.filter((w) => !has(w)).map(String);
        throw new Error(`missing StatsD lines: ${missing.join(", ")}\nreceived: ${udp.lines.join(" ")}`);
      },
    );
  });

  it("counts a blocked event loop", async () => {
    // A loaded machine may have lagged already: count the lines after this block only.
    const blocked = () =>
      udp.lines.filter((l) => /^airflow\.triggers\.blocked_main_thread:1\|c$/.test(l)).length;
    const before = blocked();
    const end = Date.now() + 500;
    while (Date.now() < end) {
      // Busy on purpose: a trigger that computes synchronously blocks every other one.
    }
    await until("triggers.blocked_main_thread", () => (blocked() > before ? true : undefined));
  });

  it("serves them at GET /metrics with the hostname as a label", async () => {
    const res = await fetch(`${engine.url}/metrics`, { headers: { authorization: "Bearer scraper-token" } });
    expect(res.status).toBe(200);
    const s = parsePrometheusText(await res.text());
    expect(s.value("airflow_triggers_succeeded")).toBe(1);
    expect(s.value("airflow_triggers_failed")).toBe(1);
    expect(s.value("airflow_triggers_blocked_main_thread")).toBeGreaterThanOrEqual(1);
    expect(s.value("airflow_triggerer_heartbeat")).toBeGreaterThanOrEqual(1);
    expect(s.types.get("airflow_triggers_running")).toBe("gauge");
    expect(s.value("airflow_triggers_running", { hostname: hostname() })).toBe(1);
    expect(s.value("airflow_triggerer_capacity_left", { hostname: hostname() })).toBe(CAPACITY - 1);
  });
});
