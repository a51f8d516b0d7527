// TriggerDagRunOperator and ExternalTaskSensor through the whole engine, in this process as
// `updraft dags test` runs it (API server, scheduler, DAG processor, LocalExecutor runners from
// dist/, on an in-memory database): one DAG triggers another and waits for it, resets it, skips
// an existing run, fans out with expand, and fails on a failed run; sensors wait for another
// DAG's task an hour earlier and fail on its failure; templates read XComs with ti.xcom_pull.
// Needs dist/ (npm run build).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import { getDagRun, listDagRuns, listTaskInstances, type Database } from "../../src/db/index.js";
import { setDagPaused, triggerDagRun } from "../../src/services/index.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";
import { tempDir } from "../helpers.js";

let t: TestEngine;
let engine: Engine;
let database: Database;
const home = tempDir("updraft-e2e-control-");
const folder = join(home, "dags");
const out = join(folder, "out");

const DAGS = {
  target: `import { BashOperator, dag } from "updraft";
export default dag({ dagId: "target" }, () => {
  new BashOperator({ taskId: "work", bashCommand: "echo n={{ dag_run.conf.n }} >> ${out}" });
});`,
  target_fails: `import { BashOperator, dag } from "updraft";
export default dag({ dagId: "target_fails" }, () => {
  new BashOperator({ taskId: "boom", bashCommand: "exit 3" });
});`,
  controller: `import { BashOperator, TriggerDagRunOperator, dag } from "updraft";
export default dag({ dagId: "controller" }, () => {
  const first = new TriggerDagRunOperator({ taskId: "trigger", triggerDagId: "target", triggerRunId: "from_{{ run_id }}", conf: { n: "{{ ds_nodash }}" }, waitForCompletion: true, pokeInterval: "200ms" });
  const again = new TriggerDagRunOperator({ taskId: "reset", triggerDagId: "target", triggerRunId: "{{ ti.xcom_pull(task_ids='trigger', key='trigger_run_id') }}", resetDagRun: true, waitForCompletion: true, pokeInterval: "200ms" });
  const skip = new TriggerDagRunOperator({ taskId: "skip_existing", triggerDagId: "target", triggerRunId: "{{ task_instance.xcom_pull('trigger', key='trigger_run_id') }}", skipWhenAlreadyExists: true });
  const echo = new BashOperator({ taskId: "echo", bashCommand: "echo pulled={{ ti.xcom_pull(task_ids='trigger') }} >> ${out}" });
  const fanOut = TriggerDagRunOperator.partial({ taskId: "fan_out", triggerDagId: "target", triggerRunId: "fan_{{ ti.map_index }}_{{ run_id }}" }).expand({ conf: [{ n: "a" }, { n: "b" }] });
  first.before([again, echo, fanOut]);
  again.before(skip);
  new TriggerDagRunOperator({ taskId: "trigger_fails", triggerDagId: "target_fails", waitForCompletion: true, pokeInterval: "200ms", failedStates: ["failed"] });
  new TriggerDagRunOperator({ taskId: "trigger_deferred", triggerDagId: "target", triggerRunId: "deferred_{{ run_id }}", conf: { n: "d" }, waitForCompletion: true, deferrable: true, pokeInterval: "200ms" });
});`,
  upstream: `import { BashOperator, dag } from "updraft";
export default dag({ dagId: "upstream" }, () => {
  new BashOperator({ taskId: "load", bashCommand: "sleep 1" }).before(new BashOperator({ taskId: "boom", bashCommand: "exit 4" }));
});`,
  downstream: `import { ExternalTaskSensor, dag } from "updraft";
export default dag({ dagId: "downstream" }, () => {
  new ExternalTaskSensor({ taskId: "wait_load", externalDagId: "upstream", externalTaskId: "load", executionDelta: "1h", pokeInterval: "200ms", timeout: "60s" });
  new ExternalTaskSensor({ taskId: "wait_boom", externalDagId: "upstream", externalTaskIds: ["boom"], executionDelta: "1h", failedStates: ["failed", "upstream_failed"], pokeInterval: "200ms", timeout: "60s", retries: 0 });
  new ExternalTaskSensor({ taskId: "wait_run", externalDagId: "upstream", executionDateFn: (d) => new Date(d.getTime() - 3600000), allowedStates: ["failed"], pokeInterval: "200ms", timeout: "60s" });
  new ExternalTaskSensor({ taskId: "wait_load_deferred", externalDagId: "upstream", externalTaskId: "load", executionDelta: "1h", deferrable: true, pokeInterval: "200ms", timeout: "60s" });
  new ExternalTaskSensor({ taskId: "wait_boom_deferred", externalDagId: "upstream", externalTaskIds: ["boom"], executionDelta: "1h", failedStates: ["failed", "upstream_failed"], deferrable: true, pokeInterval: "200ms", timeout: "60s", retries: 0 });
  new ExternalTaskSensor({ taskId: "missing", externalDagId: "upstream", externalTaskId: "nope", checkExistence: true, pokeInterval: "200ms", timeout: "60s", retries: 0 });
});`,
  mapped_ops: `import { DateTimeSensor, ExternalProcessOperator, FileSensor, dag } from "updraft";
export default dag({ dagId: "mapped_ops" }, () => {
  const files = FileSensor.partial({ taskId: "files", pokeInterval: "100ms", timeout: "30s" }).expand({ filepath: [${JSON.stringify(join(folder, "out"))}, ${JSON.stringify(join(folder, "*.ts"))}] });
  const times = DateTimeSensor.partial({ taskId: "times", pokeInterval: "100ms" }).expand({ targetTime: ["{{ ds }}T00:00:00Z", "2000-01-01T00:00:00Z"] });
  const script = ExternalProcessOperator.partial({ taskId: "script", script: "echo.py" }).expand({ args: [["a"], ["{{ ds_nodash }}"]] });
  files.before(times).before(script);
});`,
};

beforeAll(async () => {
  t = await startTestEngine({
    name: "e2e-control",
    home,
    files: {
      ...Object.fromEntries(Object.entries(DAGS).map(([name, text]) => [`${name}.ts`, text])),
      out: "",
      "echo.py": 'import json, sys\nprint(json.dumps({"arg": sys.argv[1]}))\n',
    },
    overrides: { "core.executor": "LocalExecutor", "core.dags_are_paused_at_creation": true },
    parts: { triggerer: true },
    logLevel: "warn",
  });
  ({ engine, database } = t);
  const errors = await database.db.selectFrom("import_error").select(["filename", "stacktrace"]).execute();
  expect(errors).toEqual([]);
  await database.db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
  for (const id of Object.keys(DAGS)) await setDagPaused(database.db, id, false);
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

async function runToEnd(dagId: string, runId: string): Promise<string | undefined> {
  const deadline = Date.now() + 120_000;
  let state: string | undefined;
  while (Date.now() < deadline) {
    state = (await getDagRun(database.db, { dagId, runId }))?.state;
    if (state === "success" || state === "failed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return state;
}

async function states(dagId: string, runId: string): Promise<Record<string, string | null>> {
  const tis = await listTaskInstances(database.db, { dagId, runId });
  return Object.fromEntries(
    tis.map((t) => [`${t.task_id}${t.map_index >= 0 ? `[${t.map_index}]` : ""}`, t.state]),
  );
}

describe("control operators through the engine", () => {
  test("TriggerDagRunOperator triggers, waits, resets, skips, fans out, and fails on a failed run", async () => {
    const db = database.db;
    const run = await triggerDagRun(
      db,
      { dagId: "controller", runId: "ctl", logicalDate: "2026-03-04T00:00:00Z" },
      { events: engine.events },
    );
    expect(await runToEnd("controller", run.run_id)).toBe("failed");
    expect(await states("controller", run.run_id)).toEqual({
      trigger: "success",
      reset: "success",
      skip_existing: "skipped",
      echo: "success",
      "fan_out[0]": "success",
      "fan_out[1]": "success",
      trigger_fails: "failed",
      trigger_deferred: "success",
    });
    // The triggered run: created by the task, then cleared once by "reset" and run again.
    const target = await getDagRun(db, { dagId: "target", runId: "from_ctl" });
    expect(target?.state).toBe("success");
    expect(target?.run_type).toBe("manual");
    expect(target?.clear_number).toBe(1);
    expect(target?.conf).toEqual({ n: "20260304" });
    const fans = (await listDagRuns(db, { dagId: "target" })).map((r) => r.run_id).sort();
    expect(fans).toEqual(["deferred_ctl", "fan_0_ctl", "fan_1_ctl", "from_ctl"]);
    const lines = readFileSync(out, "utf8").split("\n").filter(Boolean).sort();
    expect(lines).toEqual(["n=20260304", "n=20260304", "n=a", "n=b", "n=d", "pulled=from_ctl"]);
    const failedRuns = await listDagRuns(db, { dagId: "target_fails" });
    expect(failedRuns.map((r) => r.state)).toEqual(["failed"]);
    // The audit log names the task that triggered the run.
    const audit = await db
      .selectFrom("log")
      .select(["event", "owner"])
      .where("dag_id", "=", "target")
      .where("run_id", "=", "from_ctl")
      .orderBy("id")
      .execute();
    expect(audit).toEqual([
      { event: "trigger", owner: "task:controller.trigger/ctl" },
      { event: "dag_run.clear", owner: "task:controller.reset/ctl" },
    ]);
    const log = readFileSync(
      join(home, "logs", "dag_id=controller", "run_id=ctl", "task_id=trigger_fails", "attempt=1.log"),
      "utf8",
    );
    expect(log).toMatch(/DAG "target_fails" run manual__\S+ ended failed, one of failedStates \(failed\)/);
    // The deferred wait: one try, waited in the triggerer, resumed to read the run's state.
    const deferredLog = readFileSync(
      join(home, "logs", "dag_id=controller", "run_id=ctl", "task_id=trigger_deferred", "attempt=1.log"),
      "utf8",
    );
    expect(deferredLog).toMatch(/Deferring until DAG "target" run deferred_ctl reaches success/);
    expect(deferredLog).toMatch(/DAG "target" run deferred_ctl is success/);
  }, 200_000);

  test("ExternalTaskSensor waits for another DAG's task an hour earlier and fails on failedStates", async () => {
    const db = database.db;
    const down = await triggerDagRun(
      db,
      { dagId: "downstream", runId: "down", logicalDate: "2026-05-01T10:00:00Z" },
      { events: engine.events },
    );
    // The sensors are poking before the upstream run exists.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getDagRun(db, { dagId: "downstream", runId: "down" }))?.state).toBe("running");
    await triggerDagRun(
      db,
      { dagId: "upstream", runId: "up", logicalDate: "2026-05-01T09:00:00Z" },
      { events: engine.events },
    );
    expect(await runToEnd("upstream", "up")).toBe("failed");
    expect(await runToEnd("downstream", down.run_id)).toBe("failed");
    expect(await states("downstream", down.run_id)).toEqual({
      wait_load: "success",
      wait_boom: "failed",
      wait_run: "success",
      wait_load_deferred: "success",
      wait_boom_deferred: "failed",
      missing: "failed",
    });
    const logOf = (task: string) =>
      readFileSync(
        join(home, "logs", "dag_id=downstream", "run_id=down", `task_id=${task}`, "attempt=1.log"),
        "utf8",
      );
    expect(logOf("wait_boom")).toContain(
      'Some of task "boom" of DAG "upstream" at 2026-05-01T09:00:00.000Z ended in failed or upstream_failed.',
    );
    expect(logOf("wait_load")).toContain(
      'Poking for task "load" of DAG "upstream" at 2026-05-01T09:00:00.000Z',
    );
    expect(logOf("missing")).toContain('DAG "upstream" has no task "nope".');
    for (const task of ["wait_load_deferred", "wait_boom_deferred"])
      expect(logOf(task)).toContain("deferring on updraft.triggers.ExternalTaskTrigger");
    expect(logOf("wait_boom_deferred")).toContain(
      'Some of task "boom" of DAG "upstream" at 2026-05-01T09:00:00.000Z ended in failed or upstream_failed.',
    );
  }, 200_000);

  test("SQL-free operators added last session map with partial().expand()", async () => {
    const db = database.db;
    const run = await triggerDagRun(
      db,
      { dagId: "mapped_ops", runId: "m", logicalDate: "2026-06-07T00:00:00Z" },
      { events: engine.events },
    );
    expect(await runToEnd("mapped_ops", run.run_id)).toBe("success");
    expect(await states("mapped_ops", run.run_id)).toEqual({
      "files[0]": "success",
      "files[1]": "success",
      "times[0]": "success",
      "times[1]": "success",
      "script[0]": "success",
      "script[1]": "success",
    });
    const xcoms = await db
      .selectFrom("xcom")
      .select(["map_index", "value"])
      .where("dag_id", "=", "mapped_ops")
      .where("task_id", "=", "script")
      .orderBy("map_index")
      .execute();
    expect(xcoms).toEqual([
      { map_index: 0, value: { arg: "a" } },
      { map_index: 1, value: { arg: "20260607" } },
    ]);
  }, 200_000);
});
