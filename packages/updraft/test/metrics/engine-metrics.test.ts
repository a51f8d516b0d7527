// Metrics end to end, with real parts: the whole engine of `updraft standalone` (DAG processor,
// scheduler, LocalExecutor with real runner processes, API server) on in-memory PGlite runs a DAG
// whose second task fails, while a real UDP socket receives the StatsD lines and GET /metrics is
// scraped and parsed. Then the same with metrics off: not one datagram. Run `npm run build`
// first: runners are forked from dist/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import { triggerDagRun } from "../../src/services/index.js";
import { seedUserWithToken } from "../api/helpers.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";
import { parsePrometheusText } from "./prom-text.js";
import { listenUdp, until, type Udp } from "./udp.js";

const DAG = `import { dag, task } from "updraft";
export default dag({ dagId: "metrics_fail", defaultArgs: { retries: 0 } }, () => {
  const ok = task("ok", () => 1);
  const bad = task("bad", () => {
    throw new Error("fails on purpose");
  });
  ok().before(bad());
});
`;

async function runFailingDag(o: { port: number; on: boolean }) {
  const t = await startTestEngine({
    name: "metrics",
    files: { "metrics_dag.ts": DAG },
    overrides: {
      "core.dags_are_paused_at_creation": false,
      "scheduler.scheduler_heartbeat_sec": 1,
      "metrics.statsd_on": o.on,
      "metrics.statsd_host": "127.0.0.1",
      "metrics.statsd_port": o.port,
      "metrics.prometheus_on": o.on,
    },
  });
  const { engine, database } = t;
  await seedUserWithToken(database, "scraper", "Viewer", "scraper-token");
  const runId = "manual__metrics";
  await triggerDagRun(database.db, { dagId: "metrics_fail", runId }, { events: engine.events });
  const state = await until("the run to end", async () => {
    const r = await database.db
      .selectFrom("dag_run")
      .select("state")
      .where("dag_id", "=", "metrics_fail")
      .where("run_id", "=", runId)
      .executeTakeFirst();
    return r?.state === "failed" || r?.state === "success" ? r.state : undefined;
  });
  return { t, engine, state };
}

describe("metrics on: StatsD lines and GET /metrics while a DAG with a failing task runs", () => {
  let udp: Udp;
  let t: TestEngine;
  let engine: Engine;
  let state: string;
  beforeAll(async () => {
    udp = await listenUdp();
    ({ t, engine, state } = await runFailingDag({ port: udp.port, on: true }));
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    udp?.socket.close();
  });

  it("sends Airflow's names with the airflow prefix over UDP", async () => {
    expect(state).toBe("failed");
    const has = (re: RegExp) => udp.lines.some((l) => re.test(l));
    const wanted = [
      /^airflow\.ti_failures:1\|c$/,
      /^airflow\.ti_successes:1\|c$/,
      /^airflow\.ti\.start\.metrics_fail\.ok:1\|c$/,
      /^airflow\.ti\.start\.metrics_fail\.bad:1\|c$/,
      /^airflow\.ti\.finish\.metrics_fail\.bad\.failed:1\|c$/,
      /^airflow\.ti\.finish\.metrics_fail\.ok\.success:1\|c$/,
      /^airflow\.task\.duration:[\d.]+\|ms$/,
      /^airflow\.task\.queued_duration:[\d.]+\|ms$/,
      /^airflow\.dagrun\.duration\.failed\.metrics_fail:[\d.]+\|ms$/,
      /^airflow\.scheduler_heartbeat:1\|c$/,
      /^airflow\.scheduler\.critical_section_duration:[\d.]+\|ms$/,
      /^airflow\.scheduler\.tasks\.starving:\d+\|g$/,
      /^airflow\.pool\.open_slots\.default_pool:\d+\|g$/,
      /^airflow\.pool\.running_slots\.default_pool:\d+\|g$/,
      /^airflow\.pool\.queued_slots\.default_pool:\d+\|g$/,
      /^airflow\.pool\.starving_tasks\.default_pool:\d+\|g$/,
      /^airflow\.executor\.open_slots:\d+\|g$/,
      /^airflow\.executor\.queued_tasks:\d+\|g$/,
      /^airflow\.executor\.running_tasks:\d+\|g$/,
      /^airflow\.dag_processing\.total_parse_time:[\d.]+\|g$/,
      /^airflow\.dag_processing\.import_errors:0\|g$/,
      /^airflow\.dag_processing\.last_duration\.metrics_dag:[\d.]+\|ms$/,
      /^airflow\.dagbag_size:1\|g$/,
    ];
    // The periodic gauges and the heartbeat come with the next periodic pass (1 s here).
    await until("every name over UDP", () => (wanted.every(has) ? true : undefined), 15_000).catch(() => {
      const missing = wanted.filter((w) => !has(w)).map(String);
      throw new Error(`missing StatsD lines: ${missing.join(", ")}\nreceived: ${udp.lines.join(" ")}`);
    });
  });

  it("serves them at GET /metrics, as the statsd_exporter would name them, to a Viewer only", async () => {
    const url = `${engine.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: "Bearer scraper-token" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const s = parsePrometheusText(await res.text());
    expect(s.value("airflow_ti_failures")).toBe(1);
    expect(s.value("airflow_ti_successes")).toBe(1);
    expect(s.value("airflow_ti_finish", { dag_id: "metrics_fail", task_id: "bad", state: "failed" })).toBe(1);
    expect(s.value("airflow_ti_start", { dag_id: "metrics_fail", task_id: "ok" })).toBe(1);
    expect(s.types.get("airflow_dagrun_duration_failed")).toBe("summary");
    expect(s.value("airflow_dagrun_duration_failed_count", { dag_id: "metrics_fail" })).toBe(1);
    expect(s.value("airflow_dagrun_duration_failed_sum", { dag_id: "metrics_fail" })).toBeGreaterThan(0);
    expect(s.value("airflow_scheduler_heartbeat")).toBeGreaterThanOrEqual(1);
    expect(s.value("airflow_dagbag_size")).toBe(1);
    expect(s.value("airflow_pool_open_slots", { pool: "default_pool" })).toBeGreaterThan(0);
    expect(s.value("airflow_dag_processing_total_parse_time")).toBeGreaterThan(0);
    // Node's process metrics, as prom-client's defaults name them.
    expect(s.value("process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(s.types.get("nodejs_heap_size_used_bytes")).toBe("gauge");
  });
});

describe("metrics off", () => {
  it("sends not one datagram and serves no /metrics", async () => {
    const udp = await listenUdp();
    const { t, engine, state } = await runFailingDag({ port: udp.port, on: false });
    try {
      expect(state).toBe("failed");
      // Two periodic passes: time for any heartbeat or gauge to have been sent.
      await new Promise((r) => setTimeout(r, 2500));
      expect(udp.lines).toEqual([]);
      const res = await fetch(`${engine.url}/metrics`, {
        headers: { authorization: "Bearer scraper-token" },
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { detail: string }).detail).toContain("metrics.prometheus_on");
    } finally {
      await t.stop();
      udp.socket.close();
    }
  }, 120_000);
});
