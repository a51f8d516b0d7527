// Scheduler metrics on the real scheduler and database, read back from real prom-client
// registries: a try whose runner stopped heartbeating is reaped once, even with two schedulers
// racing, and counted once as a zombie and a failure across both.
import { sql } from "kysely";
import { expect, it } from "vitest";
import { prometheusMetrics, type PrometheusMetrics } from "../../src/metrics/index.js";
import { Scheduler } from "../../src/scheduler/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { SECRET, saveSdkDag, testConfig, TestExecutor } from "../scheduler/helpers.js";
import type { Database } from "../../src/db/index.js";
import { parsePrometheusText } from "./prom-text.js";

function schedulerWith(database: Database, exec: TestExecutor, metrics: PrometheusMetrics): Scheduler {
  return new Scheduler({
    database,
    config: testConfig(),
    executor: exec,
    apiUrl: "http://127.0.0.1:1",
    secretKey: SECRET,
    metrics,
  });
}

const scrape = async (m: PrometheusMetrics) => parsePrometheusText(await m.registry.metrics());

withTestDatabases("scheduler metrics", (getDb) => {
  it("counts a zombie once with two schedulers racing, with its failure and the pool gauges", async () => {
    const database = getDb();
    await saveSdkDag(
      database,
      dag({ dagId: "zombie_metrics", defaultArgs: { retries: 1 } }, () => void task("work", () => 1)()),
    );
    const [ma, mb] = [0, 1].map(() => prometheusMetrics({ prefix: "airflow", defaultMetrics: false }));
    const [execA, execB] = [new TestExecutor(database), new TestExecutor(database)];
    const a = schedulerWith(database, execA, ma!);
    const b = schedulerWith(database, execB, mb!);
    const runId = "zombie_run";
    await triggerDagRun(database.db, { dagId: "zombie_metrics", runId });
    await a.runOnce();
    await execA.startAll();
    await sql`update task_instance set last_heartbeat_at = now() - interval '10 seconds'
      where run_id = ${runId}`.execute(database.db);
    await Promise.all([a.runOnce(), b.runOnce()]);
    const [sa, sb] = [await scrape(ma!), await scrape(mb!)];
    const total = (name: string) => (sa.value(name) ?? 0) + (sb.value(name) ?? 0);
    expect(total("airflow_zombies_killed")).toBe(1);
    expect(total("airflow_ti_failures")).toBe(1);
    expect(
      (sa.value("airflow_ti_finish", { dag_id: "zombie_metrics", task_id: "work", state: "up_for_retry" }) ??
        0) +
        (sb.value("airflow_ti_finish", {
          dag_id: "zombie_metrics",
          task_id: "work",
          state: "up_for_retry",
        }) ?? 0),
    ).toBe(1);
    // The periodic pass's gauges: the default pool with its slots, the executor's open slots.
    expect(sa.value("airflow_pool_open_slots", { pool: "default_pool" })).toBeGreaterThan(0);
    expect(sa.value("airflow_pool_running_slots", { pool: "default_pool" })).toBe(0);
    expect(sa.value("airflow_executor_open_slots")).toBeGreaterThan(0);
  });
});
