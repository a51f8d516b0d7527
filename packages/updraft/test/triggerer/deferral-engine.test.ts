// Sensors in their three modes, deferral and trigger timeouts through the whole engine, against a
// throwaway PostgreSQL: API server, scheduler, DAG processor, triggerer and a LocalExecutor (whose
// runners come from dist/: npm run build) in this process, as `updraft standalone` assembles them.
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import { openDatabase, setPool, type Database } from "../../src/db/index.js";
import { setDagPaused, triggerDagRun } from "../../src/services/index.js";
import { createThrowawayDatabase, type ThrowawayDatabase } from "../db-testing.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";
import { tempDir } from "../helpers.js";

let meta: ThrowawayDatabase;
let t: TestEngine;
let engine: Engine;
let database: Database;
const home = tempDir("updraft-deferral-");
const flag = join(home, "flag.txt");

const DAGS = `import { BaseOperator, DateTimeSensor, EmptyOperator, FileSensor, TimeDeltaSensor, dag, deferTask, task, triggers, userTrigger, type ExecuteInput } from "updraft";
import { writeFileSync } from "node:fs";

export const modes = dag({ dagId: "sensor_modes" }, () => {
  new TimeDeltaSensor({ taskId: "poke", delta: "0s", pokeInterval: "100ms" });
  new DateTimeSensor({ taskId: "resched", mode: "reschedule", targetTime: new Date(Date.now() + 3000), pokeInterval: "500ms", timeout: "60s" });
  new DateTimeSensor({ taskId: "deferred", deferrable: true, targetTime: "{{ macros.datetime.utcnow().isoformat() }}", pokeInterval: "1s" });
  new TimeDeltaSensor({ taskId: "deferred_delta", deferrable: true, delta: "2s" });
});

// A reschedule sensor and the task that satisfies it share a pool of one slot: only a sensor that
// frees its slot between pokes lets the writer run.
export const pool = dag({ dagId: "pool_of_one" }, () => {
  new FileSensor({ taskId: "wait_flag", filepath: ${JSON.stringify(flag)}, mode: "reschedule", pokeInterval: "300ms", timeout: "40s", pool: "single", priorityWeight: 10 });
  task({ taskId: "write_flag", pool: "single", priorityWeight: 1 }, () => { writeFileSync(${JSON.stringify(flag)}, "x"); })();
});

class EchoOperator extends BaseOperator {
  readonly operatorName = "EchoOperator";
  readonly templateFields = [] as const;
  constructor(o: { taskId: string }) { super(o, {}); }
  execute(input: ExecuteInput): Promise<unknown> {
    return this.defer({ trigger: userTrigger("triggers/echo.ts", { value: "from-trigger" }), method: "done", kwargs: { note: "kept" } });
  }
  done(input: ExecuteInput, event: unknown): Promise<unknown> {
    return Promise.resolve({ event, kwargs: input.resume?.kwargs });
  }
}

export const resume = dag({ dagId: "resume_payload" }, () => {
  new EchoOperator({ taskId: "echo" });
  task("flow", (ctx) => {
    if (ctx.trigger_event === undefined) throw deferTask({ trigger: triggers.timeDelta("500ms") });
    return ctx.trigger_event;
  })();
});

export const timeout = dag({ dagId: "trigger_timeout" }, () => {
  new DateTimeSensor({ taskId: "never", deferrable: true, targetTime: "2999-01-01T00:00:00Z", timeout: "1s", retries: 2 });
  new DateTimeSensor({ taskId: "never_soft", deferrable: true, targetTime: "2999-01-01T00:00:00Z", timeout: "1s", softFail: true });
  new EmptyOperator({ taskId: "other" });
});
`;

const TRIGGER = `import { defineTrigger } from "updraft";
export default defineTrigger<{ value: string }>(async ({ value }) => ({ value, pid: process.pid }));
`;

beforeAll(async () => {
  meta = await createThrowawayDatabase();
  t = await startTestEngine({
    name: "deferral",
    home,
    files: {
      "deferral_dags.ts": DAGS,
      "triggers/echo.ts": TRIGGER,
      // Trigger modules are no DAG files (docs/triggerer.md).
      ".updraftignore": "triggers/\n",
    },
    overrides: {
      "database.sql_alchemy_conn": meta.url,
      "core.executor": "LocalExecutor",
      "core.dags_are_paused_at_creation": true,
      "scheduler.scheduler_heartbeat_sec": 1,
      "triggerer.poll_interval": 0.2,
    },
    openDatabase,
    parts: { triggerer: true },
    logLevel: "warn",
  });
  ({ engine, database } = t);
  await setPool(database.db, { pool: "single", slots: 1, description: "one slot" });
  await database.db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await meta?.drop();
});

interface Ti {
  task_id: string;
  state: string | null;
  try_number: number;
}

async function runDag(dagId: string): Promise<{ state: string; tis: Ti[]; runId: string }> {
  const db = database.db;
  await setDagPaused(db, dagId, false);
  const run = await triggerDagRun(db, { dagId, conf: {}, logicalDate: null }, { events: engine.events });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await db
      .selectFrom("dag_run")
      .select("state")
      .where("dag_id", "=", dagId)
      .where("run_id", "=", run.run_id)
      .executeTakeFirstOrThrow();
    if (r.state === "success" || r.state === "failed") {
      const tis = await db
        .selectFrom("task_instance")
        .select(["task_id", "state", "try_number"])
        .where("dag_id", "=", dagId)
        .where("run_id", "=", run.run_id)
        .orderBy("task_id")
        .execute();
      return { state: r.state, tis, runId: run.run_id };
    }
    if (Date.now() > deadline) throw new Error(`${dagId} did not finish in 60 s (run ${r.state})`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe("sensors, deferral and the triggerer through the engine", () => {
  test("the DAG file parses (the trigger module is bundled into it, and loaded alone by the triggerer)", async () => {
    const errors = await database.db.selectFrom("import_error").select(["filename", "stacktrace"]).execute();
    expect(errors).toEqual([]);
  });

  test("a sensor succeeds in each mode; reschedule and deferral keep the try number", async () => {
    const { state, tis, runId } = await runDag("sensor_modes");
    expect(tis).toEqual([
      { task_id: "deferred", state: "success", try_number: 1 },
      { task_id: "deferred_delta", state: "success", try_number: 1 },
      { task_id: "poke", state: "success", try_number: 1 },
      { task_id: "resched", state: "success", try_number: 1 },
    ]);
    expect(state).toBe("success");
    const reschedules = await database.db
      .selectFrom("task_reschedule")
      .select(["try_number", "start_date", "reschedule_date"])
      .where("dag_id", "=", "sensor_modes")
      .where("run_id", "=", runId)
      .where("task_id", "=", "resched")
      .execute();
    // Pokes every 500 ms for about 3 s: several reschedules, all of try 1.
    expect(reschedules.length).toBeGreaterThanOrEqual(2);
    expect(new Set(reschedules.map((r) => r.try_number))).toEqual(new Set([1]));
    // One history row per try: the resumed runs did not count as tries.
    const history = await database.db
      .selectFrom("task_instance_history")
      .select(["task_id", "try_number", "state"])
      .where("dag_id", "=", "sensor_modes")
      .where("run_id", "=", runId)
      .orderBy("task_id")
      .execute();
    expect(history.map((h) => [h.task_id, h.try_number, h.state])).toEqual([
      ["deferred", 1, "success"],
      ["deferred_delta", 1, "success"],
      ["poke", 1, "success"],
      ["resched", 1, "success"],
    ]);
    // Their triggers were settled and deleted.
    const left = await sql<{ n: number }>`select count(*)::int as n from trigger`.execute(database.db);
    expect(left.rows[0]?.n).toBe(0);
  }, 90_000);

  test("a reschedule sensor frees its slot: with a pool of one, the task it waits for runs", async () => {
    const { state, tis } = await runDag("pool_of_one");
    expect(tis).toEqual([
      { task_id: "wait_flag", state: "success", try_number: 1 },
      { task_id: "write_flag", state: "success", try_number: 1 },
    ]);
    expect(state).toBe("success");
    // The sensor (higher priority, queued first) did wait: it was rescheduled at least once.
    const reschedules = await database.db
      .selectFrom("task_reschedule")
      .select("id")
      .where("dag_id", "=", "pool_of_one")
      .execute();
    expect(reschedules.length).toBeGreaterThanOrEqual(1);
  }, 90_000);

  test("a deferred operator resumes in the named method with the event; TaskFlow with ctx.trigger_event", async () => {
    const { state, runId } = await runDag("resume_payload");
    expect(state).toBe("success");
    const xcoms = await database.db
      .selectFrom("xcom")
      .select(["task_id", "value"])
      .where("dag_id", "=", "resume_payload")
      .where("run_id", "=", runId)
      .where("key", "=", "return_value")
      .orderBy("task_id")
      .execute();
    const echo = xcoms.find((x) => x.task_id === "echo")?.value as {
      event: { value: string; pid: number };
      kwargs: Record<string, unknown>;
    };
    expect(echo.event.value).toBe("from-trigger");
    // The user trigger ran in the triggerer (this process), not in the runner.
    expect(echo.event.pid).toBe(process.pid);
    expect(echo.kwargs).toEqual({ note: "kept" });
    const flow = xcoms.find((x) => x.task_id === "flow")?.value as { status: string };
    expect(flow.status).toBe("success");
  }, 90_000);

  test("a trigger timeout fails a deferred sensor without retry, or skips it with softFail", async () => {
    const { state, tis } = await runDag("trigger_timeout");
    expect(tis).toEqual([
      { task_id: "never", state: "failed", try_number: 1 },
      { task_id: "never_soft", state: "skipped", try_number: 1 },
      { task_id: "other", state: "success", try_number: 1 },
    ]);
    expect(state).toBe("failed");
    const ti = await database.db
      .selectFrom("task_instance")
      .select(["next_method", "trigger_id"])
      .where("dag_id", "=", "trigger_timeout")
      .where("task_id", "=", "never")
      .executeTakeFirstOrThrow();
    expect(ti).toEqual({ next_method: null, trigger_id: null });
  }, 90_000);
});
