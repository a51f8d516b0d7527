// The execution API's control routes (decision 0033) on the real PostgreSQL: what a running
// task may do to other DAGs' runs, what it may not, and the state counts ExternalTaskSensor reads.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TaskInstanceKey } from "../../src/model/execution-api.js";
import { triggerDagRun } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { makeDag, queueTi, saveTestDag, startTestServer, tokenFor, type TestServer } from "./helpers.js";

const CALLER = makeDag("ctl_caller", [{ id: "go" }]);
const TARGET = makeDag("ctl_target", [{ id: "a" }, { id: "b", upstream: ["a"] }, { id: "c" }]);
TARGET.task_groups = [{ group_id: "grp", parent_group_id: null, tooltip: "" }];
for (const t of TARGET.tasks) if (t.task_id !== "c") t.task_group_id = "grp";

withTestDatabases("execution API control routes", (getDb) => {
  let t: TestServer;
  let caller: TaskInstanceKey;
  let auth: Record<string, string>;
  beforeAll(async () => {
    await saveTestDag(getDb(), CALLER);
    await saveTestDag(getDb(), TARGET);
    t = await startTestServer(getDb(), { xcomMaxSize: 1_048_576 });
    await triggerDagRun(getDb().db, {
      dagId: "ctl_caller",
      runId: "c1",
      logicalDate: "2026-01-01T00:00:00Z",
    });
    caller = { dag_id: "ctl_caller", run_id: "c1", task_id: "go", map_index: -1 };
    await getDb().db.updateTable("dag_run").set({ state: "running" }).where("run_id", "=", "c1").execute();
    const q = await queueTi(getDb(), caller);
    auth = q.auth;
    const started = await inject("POST", "/execution/ti/start", auth, { hostname: "h", pid: 1 });
    expect(started.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.server.close();
  });

  function inject(method: "GET" | "POST", url: string, headers: Record<string, string>, payload?: unknown) {
    return t.server.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  }

  it("lets a running task trigger, read and clear another DAG's run, recorded as the task", async () => {
    const made = await inject("POST", "/execution/control/dag-runs/ctl_target", auth, {
      run_id: "t1",
      logical_date: "2026-02-01T00:00:00Z",
      conf: { x: 1 },
    });
    expect(made.statusCode).toBe(201);
    expect(made.json()).toMatchObject({
      dag_id: "ctl_target",
      run_id: "t1",
      state: "queued",
      run_type: "manual",
    });

    const again = await inject("POST", "/execution/control/dag-runs/ctl_target", auth, {
      logical_date: "2026-02-01T00:00:00Z",
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: "DAG_RUN_EXISTS",
      details: { run_id: "t1", state: "queued" },
    });

    const read = await inject("GET", "/execution/control/dag-runs/ctl_target/t1", auth);
    expect(read.json()).toMatchObject({ state: "queued", clear_number: 0 });

    await getDb().db.updateTable("dag_run").set({ state: "success" }).where("run_id", "=", "t1").execute();
    const cleared = await inject("POST", "/execution/control/dag-runs/ctl_target/t1/clear", auth, {});
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ state: "queued", clear_number: 1 });

    const owners = await getDb()
      .db.selectFrom("log")
      .select(["event", "owner"])
      .where("dag_id", "=", "ctl_target")
      .where("run_id", "=", "t1")
      .orderBy("id")
      .execute();
    expect(owners).toEqual([
      { event: "trigger", owner: "task:ctl_caller.go/c1" },
      { event: "dag_run.clear", owner: "task:ctl_caller.go/c1" },
    ]);
  });

  it("refuses its own run's clear, callback tokens' changes, and tokens of tries not running", async () => {
    const own = await inject("POST", "/execution/control/dag-runs/ctl_caller/c1/clear", auth, {});
    expect(own.statusCode).toBe(403);
    const callback = tokenFor(caller, 1, { scope: "callback" });
    const cb = await inject("POST", "/execution/control/dag-runs/ctl_target", callback.auth, {});
    expect(cb.statusCode).toBe(403);
    const cbRead = await inject("GET", "/execution/control/dag-runs/ctl_target/t1", callback.auth);
    expect(cbRead.statusCode).toBe(200);
    const stale = tokenFor(caller, 7);
    const late = await inject("POST", "/execution/control/dag-runs/ctl_target", stale.auth, {});
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: "TI_CONFLICT" });
    const none = await inject("POST", "/execution/control/dag-runs/no_such_dag", auth, {});
    expect(none.json()).toMatchObject({ code: "DAG_NOT_FOUND" });
  });

  it("counts task instances (all and any map index), groups and runs in states at logical dates", async () => {
    const db = getDb().db;
    await triggerDagRun(db, { dagId: "ctl_target", runId: "t2", logicalDate: "2026-03-01T00:00:00Z" });
    const set = (task: string, state: string) =>
      db
        .updateTable("task_instance")
        .set({ state: state as never })
        .where("run_id", "=", "t2")
        .where("task_id", "=", task)
        .execute();
    await set("a", "success");
    await set("b", "failed");
    const count = async (body: Record<string, unknown>) => {
      const r = await inject("POST", "/execution/control/states/ctl_target", auth, {
        logical_dates: ["2026-03-01T00:00:00Z"],
        ...body,
      });
      return { status: r.statusCode, body: r.json() as Record<string, unknown> };
    };
    expect((await count({ task_ids: ["a", "b"], states: ["success"] })).body).toEqual({
      expected: 2,
      all: 1,
      any: 1,
    });
    expect((await count({ task_group_id: "grp", states: ["failed"] })).body).toEqual({
      expected: 2,
      all: 1,
      any: 1,
    });
    expect((await count({ states: ["queued"] })).body).toEqual({ expected: 1, all: 1, any: 1 });
    expect(
      (await count({ task_ids: ["a"], states: ["success"], logical_dates: ["2026-03-02T00:00:00Z"] })).body,
    ).toMatchObject({ all: 0, any: 0 });
    const missing = await count({ task_ids: ["zzz"], states: ["success"], check_existence: true });
    expect(missing).toMatchObject({ status: 404, body: { code: "TASK_NOT_FOUND" } });
    const noGroup = await count({ task_group_id: "nope", states: ["success"] });
    expect(noGroup).toMatchObject({ status: 404, body: { code: "TASK_GROUP_NOT_FOUND" } });
  });

  it("gives runs triggered at once without a logical date each their own (a mapped TriggerDagRunOperator)", async () => {
    // The default logical date is "now" to the millisecond: triggers arriving together would
    // share it, and every one but the first failed with DAG_RUN_EXISTS.
    const made = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        inject("POST", "/execution/control/dag-runs/ctl_target", auth, { run_id: `burst_${i}` }),
      ),
    );
    expect(made.map((r) => [r.statusCode, (r.json() as { code?: string }).code])).toEqual(
      Array.from({ length: 12 }, () => [201, undefined]),
    );
    const dates = made.map((r) => (r.json() as { logical_date: string }).logical_date);
    expect(new Set(dates).size).toBe(12);
    // With neither a date nor a run id, the run id made from the date moves with it.
    const bare = await Promise.all(
      Array.from({ length: 6 }, () => inject("POST", "/execution/control/dag-runs/ctl_target", auth, {})),
    );
    expect(bare.map((r) => r.statusCode)).toEqual(Array.from({ length: 6 }, () => 201));
    expect(new Set(bare.map((r) => (r.json() as { run_id: string }).run_id)).size).toBe(6);
    // A run id already taken still clashes: only a default date moves.
    const again = await inject("POST", "/execution/control/dag-runs/ctl_target", auth, { run_id: "burst_3" });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "DAG_RUN_EXISTS" });
  });
});
