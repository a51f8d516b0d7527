// The tutorial's critical_pipeline (examples/dags) with its SLA shortened through configuration
// (CRITICAL_PIPELINE_SLA, and CRITICAL_PIPELINE_WORK_MS to make its task take a while), on the
// whole engine of `updraft standalone` with real runner processes: the scheduler's timer records
// the miss while the task still runs, and the DAG's slaMissCallback runs in a runner and logs its
// line. Run `npm run build` first: runners are forked from dist/.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import type { Database } from "../../src/db/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { EXAMPLES } from "../e2e/helpers.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";
import { until } from "../metrics/udp.js";

const RUN_ID = "manual__sla_probe";
const WORK_MS = 5000;

describe("critical_pipeline with its SLA shortened through configuration", () => {
  let engine: Engine;
  let database: Database;
  let home: string;
  let t: TestEngine;
  beforeAll(async () => {
    // Read when the DAG file is parsed and when the task runs (child processes inherit them).
    process.env["CRITICAL_PIPELINE_SLA"] = "1s";
    process.env["CRITICAL_PIPELINE_WORK_MS"] = String(WORK_MS);
    t = await startTestEngine({
      name: "critical-sla",
      files: { "critical_pipeline.ts": readFileSync(join(EXAMPLES, "critical_pipeline.ts"), "utf8") },
      overrides: {
        "core.dags_are_paused_at_creation": false,
        // The periodic pass is a minute away: only the SLA timer can see the miss in time.
        "scheduler.scheduler_heartbeat_sec": 60,
      },
    });
    ({ engine, database, home } = t);
    await triggerDagRun(
      database.db,
      { dagId: "critical_pipeline", runId: RUN_ID },
      { events: engine.events },
    );
  }, 120_000);
  afterAll(async () => {
    delete process.env["CRITICAL_PIPELINE_SLA"];
    delete process.env["CRITICAL_PIPELINE_WORK_MS"];
    await t?.stop();
  });

  it("records the miss while the task runs and runs slaMissCallback in a runner", async () => {
    const db = database.db;
    const miss = await until(
      "the SLA miss",
      async () => (await db.selectFrom("sla_miss").selectAll().where("run_id", "=", RUN_ID).execute())[0],
      30_000,
    );
    expect(miss.task_id).toBe("time_sensitive_task");
    // The task was still running when the miss was recorded.
    const ti = await db
      .selectFrom("task_instance")
      .select(["state", "start_date", "end_date"])
      .where("run_id", "=", RUN_ID)
      .executeTakeFirstOrThrow();
    expect(ti.start_date).not.toBeNull();
    expect(ti.end_date === null || ti.end_date.getTime() > miss.timestamp.getTime()).toBe(true);
    expect(miss.timestamp.getTime() - (ti.start_date?.getTime() ?? 0)).toBeLessThan(WORK_MS);

    // The DAG's callback (slaAlert in the example) ran in a runner and logged its line.
    const log = join(home, "logs", "dag_id=critical_pipeline", `run_id=${RUN_ID}`, "callback=sla_miss.log");
    const text = await until(
      "the slaMissCallback's log line",
      () => {
        const t = existsSync(log) ? readFileSync(log, "utf8") : "";
        return t.includes("SLA missed in critical_pipeline") ? t : undefined;
      },
      30_000,
    );
    expect(text).toContain(`SLA missed in critical_pipeline (${RUN_ID}) by: time_sensitive_task`);
    // Reported once.
    await until("the run to end", async () => {
      const r = await db
        .selectFrom("dag_run")
        .select("state")
        .where("run_id", "=", RUN_ID)
        .executeTakeFirst();
      return r?.state === "success" ? true : undefined;
    });
    expect(await db.selectFrom("sla_miss").selectAll().where("run_id", "=", RUN_ID).execute()).toHaveLength(
      1,
    );
  }, 90_000);
});
