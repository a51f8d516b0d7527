// Marking task instances through the REST API (Airflow's post_set_task_instances_state and
// patch_task_instance, airflow/api/common/mark_tasks.py set_state): the task's relatives, past and
// future runs, dry runs, mapped instances, a running try marked under its runner, the scheduler
// carrying the run on afterwards, and bad input.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { triggerDagRun } from "../../src/services/index.js";
import { newScheduler, runState, TestExecutor } from "../scheduler/helpers.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, tokenFor, type TestServer } from "./helpers.js";

const enc = encodeURIComponent;
const chain = (dagId: string) =>
  makeDag(dagId, [{ id: "a" }, { id: "b", upstream: ["a"] }, { id: "c", upstream: ["b"] }]);

withTestDatabases("marking task instances", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });
  const req = (method: "POST" | "PATCH", url: string, payload: unknown) =>
    t.server.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: payload as Record<string, unknown>,
    });
  const mark = (dagId: string, body: Record<string, unknown>) =>
    req("POST", `/dags/${dagId}/updateTaskInstancesState`, body);
  /** Saves the DAG and triggers a run on each day of June 2024 given; returns the run ids. */
  const setup = async (dag: ReturnType<typeof makeDag>, days: number[]) => {
    await saveTestDag(getDb(), dag);
    const ids: string[] = [];
    for (const day of days) {
      const run = await triggerDagRun(
        getDb().db,
        {
          dagId: dag.dag_id,
          conf: {},
          runId: null,
          logicalDate: `2024-06-${String(day).padStart(2, "0")}T00:00:00Z`,
          note: null,
          owner: "test",
        },
        { events: null, defaultTimezone: "UTC" },
      );
      ids.push(run.run_id);
    }
    return ids;
  };
  /** Every task instance of the DAG as `run|task[index]` → state. */
  const states = async (dagId: string) => {
    const rows = await getDb()
      .db.selectFrom("task_instance")
      .select(["run_id", "task_id", "map_index", "state"])
      .where("dag_id", "=", dagId)
      .execute();
    return Object.fromEntries(
      rows.map((r) => [`${r.run_id}|${r.task_id}${r.map_index >= 0 ? `[${r.map_index}]` : ""}`, r.state]),
    );
  };
  const marked = (body: string) =>
    (
      JSON.parse(body) as { task_instances: { dag_run_id: string; task_id: string; map_index: number }[] }
    ).task_instances
      .map((x) => `${x.dag_run_id}|${x.task_id}${x.map_index >= 0 ? `[${x.map_index}]` : ""}`)
      .sort();
  const logEntries = (dagId: string) =>
    getDb()
      .db.selectFrom("log")
      .selectAll()
      .where("dag_id", "=", dagId)
      .where("event", "like", "task_instance.mark_%")
      .execute();

  it("reports without changing anything on a dry run (Airflow's default)", async () => {
    const [run] = await setup(chain("mark_dry"), [1]);
    const before = await states("mark_dry");
    const dry = await mark("mark_dry", { task_id: "b", dag_run_id: run, new_state: "success" });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toEqual({
      task_instances: [
        {
          dag_id: "mark_dry",
          dag_run_id: run,
          task_id: "b",
          map_index: -1,
          execution_date: "2024-06-01T00:00:00.000Z",
        },
      ],
    });
    const patchDry = await req("PATCH", `/dags/mark_dry/dagRuns/${enc(run!)}/taskInstances/b`, {
      new_state: "failed",
    });
    expect(patchDry.statusCode, patchDry.body).toBe(200);
    expect(await states("mark_dry")).toEqual(before);
    expect(await logEntries("mark_dry")).toEqual([]);
    expect(
      t.seen.some((e) => "dag_id" in e && e.dag_id === "mark_dry" && e.type === "ti_state_changed"),
    ).toBe(false);
  });

  it("marks the task alone, or with its downstream or upstream relatives", async () => {
    const [r1, r2, r3] = await setup(chain("mark_rel"), [1, 2, 3]);
    const alone = await mark("mark_rel", {
      task_id: "b",
      dag_run_id: r1,
      new_state: "success",
      dry_run: false,
    });
    expect(alone.statusCode, alone.body).toBe(200);
    expect(marked(alone.body)).toEqual([`${r1}|b`]);
    const down = await mark("mark_rel", {
      task_id: "b",
      dag_run_id: r2,
      new_state: "failed",
      include_downstream: true,
      dry_run: false,
    });
    expect(marked(down.body)).toEqual([`${r2}|b`, `${r2}|c`]);
    const up = await mark("mark_rel", {
      task_id: "b",
      dag_run_id: r3,
      new_state: "skipped",
      include_upstream: true,
      dry_run: false,
    });
    expect(marked(up.body)).toEqual([`${r3}|a`, `${r3}|b`]);
    const s = await states("mark_rel");
    expect(s[`${r1}|a`]).toBeNull();
    expect(s[`${r1}|b`]).toBe("success");
    expect(s[`${r1}|c`]).toBeNull();
    expect(s[`${r3}|a`]).toBe("skipped");
    expect(s[`${r3}|b`]).toBe("skipped");
    expect(s[`${r3}|c`]).toBeNull();
    // Marked failed with its downstream: Airflow then clears the task's failed downstream
    // instances (DAG.set_task_instance_state), so "c" starts over.
    expect(s[`${r2}|b`]).toBe("failed");
    expect(s[`${r2}|c`]).toBeNull();
    // Marking again what is already in that state changes nothing.
    const again = await mark("mark_rel", {
      task_id: "b",
      dag_run_id: r1,
      new_state: "success",
      dry_run: false,
    });
    expect(marked(again.body)).toEqual([]);
    // An end as every end: end_date and duration set.
    const row = await getDb()
      .db.selectFrom("task_instance")
      .selectAll()
      .where("dag_id", "=", "mark_rel")
      .where("run_id", "=", r1!)
      .where("task_id", "=", "b")
      .executeTakeFirstOrThrow();
    expect(row.end_date).not.toBeNull();
    expect(row.duration).not.toBeNull();
    const logs = await logEntries("mark_rel");
    expect(logs.map((l) => [l.event, l.owner, l.task_id])).toContainEqual([
      "task_instance.mark_success",
      "test-admin",
      "b",
    ]);
    expect(t.seen).toContainEqual({ type: "ti_state_changed", dag_id: "mark_rel", run_id: r2 });
  });

  it("marks past and future runs by logical date, naming the run by id or by execution_date", async () => {
    const [r1, r2, r3] = await setup(chain("mark_time"), [1, 2, 3]);
    const future = await mark("mark_time", {
      task_id: "a",
      execution_date: "2024-06-02T00:00:00Z",
      new_state: "success",
      include_future: true,
    });
    expect(future.statusCode, future.body).toBe(200);
    expect(marked(future.body)).toEqual([`${r2}|a`, `${r3}|a`].sort());
    const past = await mark("mark_time", {
      task_id: "a",
      dag_run_id: r2,
      new_state: "success",
      include_past: true,
    });
    expect(marked(past.body)).toEqual([`${r1}|a`, `${r2}|a`].sort());
    const both = await mark("mark_time", {
      task_id: "a",
      dag_run_id: r2,
      new_state: "failed",
      include_past: true,
      include_future: true,
      dry_run: false,
    });
    expect(marked(both.body)).toEqual([`${r1}|a`, `${r2}|a`, `${r3}|a`].sort());
    const s = await states("mark_time");
    for (const r of [r1, r2, r3]) expect(s[`${r}|a`]).toBe("failed");
  });

  it("marks every map index of a mapped task, or only those given", async () => {
    const [run] = await setup(makeDag("mark_map", [{ id: "m" }, { id: "after", upstream: ["m"] }]), [1]);
    const db = getDb().db;
    await db
      .deleteFrom("task_instance")
      .where("dag_id", "=", "mark_map")
      .where("task_id", "=", "m")
      .execute();
    await db
      .insertInto("task_instance")
      .values(
        [0, 1, 2].map((i) => ({
          dag_id: "mark_map",
          run_id: run!,
          task_id: "m",
          map_index: i,
          run_logical_date: new Date("2024-06-01T00:00:00Z"),
          state: "failed" as const,
        })),
      )
      .execute();
    const some = await mark("mark_map", {
      task_id: "m",
      dag_run_id: run,
      new_state: "success",
      map_indexes: [1],
      dry_run: false,
    });
    expect(some.statusCode, some.body).toBe(200);
    expect(marked(some.body)).toEqual([`${run}|m[1]`]);
    expect(await states("mark_map")).toMatchObject({
      [`${run}|m[0]`]: "failed",
      [`${run}|m[1]`]: "success",
      [`${run}|m[2]`]: "failed",
    });
    const one = await req("PATCH", `/dags/mark_map/dagRuns/${enc(run!)}/taskInstances/m/2`, {
      new_state: "skipped",
      dry_run: false,
    });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toEqual({
      dag_id: "mark_map",
      dag_run_id: run,
      task_id: "m",
      map_index: 2,
      execution_date: "2024-06-01T00:00:00.000Z",
    });
    expect((await states("mark_map"))[`${run}|m[2]`]).toBe("skipped");
    const all = await mark("mark_map", {
      task_id: "m",
      dag_run_id: run,
      new_state: "success",
      dry_run: false,
    });
    expect(marked(all.body)).toEqual([`${run}|m[0]`, `${run}|m[2]`]);
    // The unmapped route names map index -1, which a mapped task does not have.
    const unmapped = await req("PATCH", `/dags/mark_map/dagRuns/${enc(run!)}/taskInstances/m`, {
      new_state: "success",
    });
    expect(unmapped.statusCode).toBe(404);
    const noIndex = await mark("mark_map", {
      task_id: "m",
      dag_run_id: run,
      new_state: "success",
      map_indexes: [7],
    });
    expect(noIndex.statusCode).toBe(404);
  });

  it("stops a running try marked failed: its runner is refused, its history ends; the scheduler carries on", async () => {
    const [run] = await setup(makeDag("mark_running", [{ id: "a" }, { id: "b", upstream: ["a"] }]), [1]);
    const database = getDb();
    const executor = new TestExecutor(database, 1000, t.events);
    const scheduler = newScheduler(database, t.config, executor, { events: t.events });
    await scheduler.runOnce();
    // Other tests' runs share the database: only this DAG's tries count.
    const started = (await executor.startAll()).filter((w) => w.ti.dag_id === "mark_running");
    expect(started.map((w) => w.ti.task_id)).toEqual(["a"]);
    const w = started[0]!;
    const res = await req("PATCH", `/dags/mark_running/dagRuns/${enc(run!)}/taskInstances/a`, {
      new_state: "failed",
      dry_run: false,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(t.seen).toContainEqual({ type: "ti_state_changed", dag_id: "mark_running", run_id: run });
    // The runner is refused at its next heartbeat and its late finish changes nothing.
    const auth = tokenFor(w.ti, w.try_number).auth;
    const hb = await t.server.app.inject({
      method: "POST",
      url: "/execution/ti/heartbeat",
      headers: auth,
      payload: { hostname: "test", pid: 1 },
    });
    expect(hb.statusCode).toBe(409);
    const fin = await t.server.app.inject({
      method: "POST",
      url: "/execution/ti/finish",
      headers: auth,
      payload: { state: "success" },
    });
    expect(fin.statusCode).toBe(409);
    const history = await database.db
      .selectFrom("task_instance_history")
      .selectAll()
      .where("dag_id", "=", "mark_running")
      .where("task_id", "=", "a")
      .execute();
    expect(history.map((h) => [h.try_number, h.state])).toEqual([[w.try_number, "failed"]]);
    expect(history[0]!.end_date).not.toBeNull();
    // The scheduler sees "a" failed (not retried: a marked failure is final): "b" can never run,
    // and the run fails.
    await scheduler.runOnce();
    expect(await states("mark_running")).toEqual({ [`${run}|a`]: "failed", [`${run}|b`]: "upstream_failed" });
    expect(await runState(database, { dagId: "mark_running", runId: run! })).toBe("failed");
  });

  it("resumes a failed run when its failed task is marked success (its upstream_failed downstream cleared)", async () => {
    const [run] = await setup(makeDag("mark_resume", [{ id: "a" }, { id: "b", upstream: ["a"] }]), [1]);
    const database = getDb();
    const db = database.db;
    await db
      .updateTable("task_instance")
      .set({ state: "failed" })
      .where("dag_id", "=", "mark_resume")
      .where("task_id", "=", "a")
      .execute();
    await db
      .updateTable("task_instance")
      .set({ state: "upstream_failed" })
      .where("dag_id", "=", "mark_resume")
      .where("task_id", "=", "b")
      .execute();
    await db.updateTable("dag_run").set({ state: "failed" }).where("dag_id", "=", "mark_resume").execute();
    const res = await mark("mark_resume", {
      task_id: "a",
      dag_run_id: run,
      new_state: "success",
      dry_run: false,
    });
    expect(marked(res.body)).toEqual([`${run}|a`]);
    expect(await states("mark_resume")).toEqual({ [`${run}|a`]: "success", [`${run}|b`]: null });
    expect(await runState(database, { dagId: "mark_resume", runId: run! })).toBe("queued");
    const executor = new TestExecutor(database, 1000, t.events);
    const scheduler = newScheduler(database, t.config, executor, { events: t.events });
    await scheduler.runOnce();
    const ran: string[] = [];
    await executor.runAll((w) => {
      ran.push(`${w.ti.dag_id}.${w.ti.task_id}`);
      return { state: "success" };
    });
    expect(ran.filter((x) => x.startsWith("mark_resume."))).toEqual(["mark_resume.b"]);
    await scheduler.runOnce();
    expect(await runState(database, { dagId: "mark_resume", runId: run! })).toBe("success");
  });

  it("refuses bad input with a problem: unknown names 404, not exactly one run 400, other states 422", async () => {
    const [run] = await setup(chain("mark_bad"), [1]);
    const ok = { task_id: "a", dag_run_id: run, new_state: "success" };
    const cases: [string, Record<string, unknown>, number][] = [
      ["nope_dag", ok, 404],
      ["mark_bad", { ...ok, task_id: "zz" }, 404],
      ["mark_bad", { ...ok, dag_run_id: "no_such_run" }, 404],
      ["mark_bad", { task_id: "a", execution_date: "2030-01-01T00:00:00Z", new_state: "success" }, 404],
      ["mark_bad", { ...ok, execution_date: "2024-06-01T00:00:00Z" }, 400],
      ["mark_bad", { task_id: "a", new_state: "success" }, 400],
      ["mark_bad", { ...ok, new_state: "running" }, 422],
      ["mark_bad", { ...ok, new_state: undefined }, 422],
      ["mark_bad", { ...ok, bogus: 1 }, 422],
    ];
    for (const [dagId, body, status] of cases) {
      const r = await mark(dagId, body);
      expect(r.statusCode, `${JSON.stringify(body)}: ${r.body}`).toBe(status);
      expect(r.headers["content-type"]).toContain("application/problem+json");
    }
    const base = `/dags/mark_bad/dagRuns/${enc(run!)}/taskInstances`;
    expect((await req("PATCH", `${base}/zz`, { new_state: "success" })).statusCode).toBe(404);
    expect((await req("PATCH", `${base}/a/3`, { new_state: "success" })).statusCode).toBe(404);
    expect(
      (await req("PATCH", `/dags/mark_bad/dagRuns/nope/taskInstances/a`, { new_state: "failed" })).statusCode,
    ).toBe(404);
    expect((await req("PATCH", `${base}/a`, { new_state: "queued" })).statusCode).toBe(422);
    expect(Object.values(await states("mark_bad"))).toEqual([null, null, null]);
  });
});
