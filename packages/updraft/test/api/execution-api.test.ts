import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import type { TaskInstanceKey } from "../../src/model/execution-api.js";
import { StartResponseSchema } from "../../src/model/execution-api.js";
import { triggerDagRun } from "../../src/services/index.js";
import {
  makeDag,
  queueTi,
  saveTestDag,
  startTestServer,
  tiRow,
  tokenFor,
  type TestServer,
} from "./helpers.js";

const DAG = makeDag("exec_dag", [
  { id: "extract", retries: 2, retryDelayMs: 60_000 },
  {
    id: "load",
    upstream: ["extract"],
    fields: { rows: { __xcom__: { task_id: "extract", key: "return_value" } } },
  },
  { id: "branch", operator: "@task.branch" },
  { id: "a", upstream: ["branch"] },
  { id: "b", upstream: ["branch"] },
  { id: "join", upstream: ["branch", "a"] },
  { id: "sc", operator: "@task.short_circuit" },
  { id: "x", upstream: ["sc"] },
  { id: "y", upstream: ["x"] },
  { id: "fanout", expand: { n: [1, 2] } },
  {
    id: "collect",
    upstream: ["fanout"],
    fields: { all: { __xcom__: { task_id: "fanout", key: "return_value" } } },
  },
]);

let runCounter = 0;

withTestDatabases("execution API", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    await saveTestDag(getDb(), DAG);
    t = await startTestServer(getDb(), { xcomMaxSize: 1_048_576 });
  });
  afterAll(async () => {
    await t.server.close();
  });

  async function newRun(): Promise<string> {
    const runId = `run_${++runCounter}`;
    await triggerDagRun(getDb().db, {
      dagId: DAG.dag_id,
      runId,
      logicalDate: new Date(Date.UTC(2024, 0, runCounter)),
    });
    return runId;
  }
  const key = (runId: string, taskId: string, mapIndex = -1): TaskInstanceKey => ({
    dag_id: DAG.dag_id,
    run_id: runId,
    task_id: taskId,
    map_index: mapIndex,
  });
  const post = (url: string, headers: Record<string, string>, payload: unknown) =>
    t.server.app.inject({ method: "POST", url, headers, payload: payload as Record<string, unknown> });
  const runner = { hostname: "host-1", pid: 4242 };
  /** A run the scheduler started (a try is only handed over in a running run). */
  const startRun = (runId: string) =>
    getDb().db.updateTable("dag_run").set({ state: "running" }).where("run_id", "=", runId).execute();

  it("refuses start unless the instance is queued for the token's try, then starts it once", async () => {
    const runId = await newRun();
    const k = key(runId, "extract");
    const early = tokenFor(k, 1);
    const notQueued = await post("/execution/ti/start", early.auth, runner);
    expect(notQueued.statusCode).toBe(409);
    expect(notQueued.headers["content-type"]).toContain("application/problem+json");
    expect(notQueued.json()).toMatchObject({ status: 409, code: "TI_CONFLICT" });

    const q = await queueTi(getDb(), k);
    const wrongTry = await post("/execution/ti/start", tokenFor(k, q.claims.try_number + 1).auth, runner);
    expect(wrongTry.statusCode).toBe(409);

    const ok = await post("/execution/ti/start", q.auth, runner);
    expect(ok.statusCode).toBe(200);
    const body = StartResponseSchema.parse(ok.json());
    expect(body.max_tries).toBe(2); // Airflow's max_tries is the task's retries (2)
    expect(body.dag_run).toMatchObject({ dag_id: DAG.dag_id, run_id: runId, run_type: "manual" });
    const row = await tiRow(getDb(), k);
    expect(row).toMatchObject({ state: "running", hostname: "host-1", pid: 4242, try_number: 1 });
    expect(row.start_date).not.toBeNull();

    const twice = await post("/execution/ti/start", q.auth, runner);
    expect(twice.statusCode).toBe(409);
  });

  it("refuses heartbeat and finish from a late try, changing nothing", async () => {
    const runId = await newRun();
    const k = key(runId, "extract");
    const first = await queueTi(getDb(), k);
    expect((await post("/execution/ti/start", first.auth, runner)).statusCode).toBe(200);
    expect((await post("/execution/ti/heartbeat", first.auth, runner)).statusCode).toBe(204);
    // The scheduler reaps the try and queues the next one.
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: "up_for_retry" })
      .where("run_id", "=", runId)
      .where("task_id", "=", "extract")
      .execute();
    const second = await queueTi(getDb(), k);
    const hb = await post("/execution/ti/heartbeat", first.auth, runner);
    expect(hb.statusCode).toBe(409);
    const fin = await post("/execution/ti/finish", first.auth, { state: "success" });
    expect(fin.statusCode).toBe(409);
    expect(fin.json().detail).toMatch(/queued at try 2, not running for try 1/);
    const row = await tiRow(getDb(), k);
    expect(row).toMatchObject({ state: "queued", try_number: second.claims.try_number });
    const history = await getDb()
      .db.selectFrom("task_instance_history")
      .selectAll()
      .where("run_id", "=", runId)
      .execute();
    expect(history).toHaveLength(0);
  });

  // airflow/api_fastapi/execution_api/routes/task_instances.py: ti_heartbeat refuses (409) a
  // heartbeat whose hostname or pid differ from those the try recorded when it started.
  it("refuses a heartbeat from another host or pid than the try's runner, leaving the heartbeat as it was", async () => {
    const runId = await newRun();
    const k = key(runId, "extract");
    const q = await queueTi(getDb(), k);
    expect((await post("/execution/ti/start", q.auth, runner)).statusCode).toBe(200);
    const started = await tiRow(getDb(), k);
    for (const other of [
      { ...runner, hostname: "intruder-host" },
      { ...runner, pid: runner.pid + 1 },
    ]) {
      const hb = await post("/execution/ti/heartbeat", q.auth, other);
      expect(hb.statusCode).toBe(409);
      expect(hb.json().code).toBe("TI_CONFLICT");
      expect(hb.json().detail).toContain(`runs on host ${runner.hostname} pid ${runner.pid}`);
      expect(hb.json().detail).toContain(`not on host ${other.hostname} pid ${other.pid}`);
    }
    const after = await tiRow(getDb(), k);
    expect(after).toMatchObject({ state: "running", hostname: runner.hostname, pid: runner.pid });
    expect(after.last_heartbeat_at).toEqual(started.last_heartbeat_at);
    expect((await post("/execution/ti/heartbeat", q.auth, runner)).statusCode).toBe(204);
  });

  it("records a successful finish: state, one history row, the XCom, and a ti_finished event", async () => {
    const runId = await newRun();
    const k = key(runId, "extract");
    const q = await queueTi(getDb(), k);
    await post("/execution/ti/start", q.auth, runner);
    const push = await post("/execution/xcom", q.auth, { key: "return_value", value: { rows: 42 } });
    expect(push.statusCode).toBe(204);
    const fin = await post("/execution/ti/finish", q.auth, { state: "success" });
    expect(fin.statusCode).toBe(200);
    expect(fin.json()).toEqual({ state: "success", next: null });
    const row = await tiRow(getDb(), k);
    expect(row.state).toBe("success");
    expect(row.end_date).not.toBeNull();
    expect(row.duration).toBeGreaterThanOrEqual(0);
    const history = await getDb()
      .db.selectFrom("task_instance_history")
      .selectAll()
      .where("run_id", "=", runId)
      .execute();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      task_id: "extract",
      try_number: 1,
      state: "success",
      hostname: "host-1",
    });
    const xcom = await getDb().db.selectFrom("xcom").selectAll().where("run_id", "=", runId).execute();
    expect(xcom.map((x) => x.value)).toEqual([{ rows: 42 }]);
    // Its downstream task is scheduled by the finish itself; the scheduler is told to queue it.
    expect((await tiRow(getDb(), key(runId, "load"))).state).toBe("scheduled");
    expect(t.seen).toContainEqual({
      type: "ti_finished",
      dag_id: DAG.dag_id,
      run_id: runId,
      task_id: "extract",
      map_index: -1,
      state: "success",
      scheduled: 1,
      run_check: false,
      evaluate: [],
    });

    // A duplicate finish is refused and changes nothing; so is a push after the end.
    const again = await post("/execution/ti/finish", q.auth, { state: "failed" });
    expect(again.statusCode).toBe(409);
    expect((await tiRow(getDb(), k)).state).toBe("success");
    expect((await post("/execution/xcom", q.auth, { key: "late", value: 1 })).statusCode).toBe(409);

    // The downstream task gets the XCom its fields refer to with its start.
    const down = await queueTi(getDb(), key(runId, "load"));
    const start = await post("/execution/ti/start", down.auth, runner);
    expect(start.json().prefetched_xcoms).toEqual({ "extract|return_value|-1": { rows: 42 } });
  });

  it("retries a failed try with tries left after the task's retry delay, and fails it with no_retry", async () => {
    const runId = await newRun();
    const k = key(runId, "extract");
    const q = await queueTi(getDb(), k);
    await post("/execution/ti/start", q.auth, runner);
    const fin = await post("/execution/ti/finish", q.auth, { state: "failed", error: "boom" });
    expect(fin.json()).toEqual({ state: "up_for_retry", next: null });
    const row = await tiRow(getDb(), k);
    expect(row.state).toBe("up_for_retry");
    expect(row.next_retry_at).not.toBeNull();
    expect(row.end_date).not.toBeNull();
    const waitMs = (row.next_retry_at?.getTime() ?? 0) - (row.end_date?.getTime() ?? 0);
    expect(waitMs).toBeGreaterThanOrEqual(59_999);
    expect(waitMs).toBeLessThanOrEqual(60_001);
    const history = await getDb()
      .db.selectFrom("task_instance_history")
      .selectAll()
      .where("run_id", "=", runId)
      .execute();
    expect(history[0]).toMatchObject({ state: "up_for_retry", error: "boom" });

    const q2 = await queueTi(getDb(), k);
    await post("/execution/ti/start", q2.auth, runner);
    const noRetry = await post("/execution/ti/finish", q2.auth, { state: "failed", no_retry: true });
    expect(noRetry.json()).toEqual({ state: "failed", next: null });
    expect((await tiRow(getDb(), k)).next_retry_at).toBeNull();
  });

  it("fails the last try (Airflow: retried only while try_number <= max_tries = retries)", async () => {
    const runId = await newRun();
    const k = key(runId, "load"); // no retries
    const q = await queueTi(getDb(), k);
    await post("/execution/ti/start", q.auth, runner);
    expect((await post("/execution/ti/finish", q.auth, { state: "failed" })).json()).toEqual({
      state: "failed",
      next: null,
    });
  });

  it("skips the direct downstream tasks a branch does not follow, but not a join reachable from a followed one", async () => {
    const runId = await newRun();
    const q = await queueTi(getDb(), key(runId, "branch"));
    await post("/execution/ti/start", q.auth, runner);
    const fin = await post("/execution/ti/finish", q.auth, { state: "success", follow_task_ids: ["a"] });
    expect(fin.json()).toEqual({ state: "success", next: null });
    expect((await tiRow(getDb(), key(runId, "b"))).state).toBe("skipped");
    // The followed task is ready at once; the join still waits for it.
    expect((await tiRow(getDb(), key(runId, "a"))).state).toBe("scheduled");
    expect((await tiRow(getDb(), key(runId, "join"))).state).toBeNull();
  });

  it("short-circuit skips every downstream task", async () => {
    const runId = await newRun();
    const q = await queueTi(getDb(), key(runId, "sc"));
    await post("/execution/ti/start", q.auth, runner);
    await post("/execution/ti/finish", q.auth, { state: "success", skip_downstream: true });
    expect((await tiRow(getDb(), key(runId, "x"))).state).toBe("skipped");
    expect((await tiRow(getDb(), key(runId, "y"))).state).toBe("skipped");
    expect((await tiRow(getDb(), key(runId, "branch"))).state).toBeNull();
  });

  it("refuses follow_task_ids and skip_downstream from tasks that are not a branch or short-circuit", async () => {
    const runId = await newRun();
    const q = await queueTi(getDb(), key(runId, "extract"));
    await post("/execution/ti/start", q.auth, runner);
    const follow = await post("/execution/ti/finish", q.auth, { state: "success", follow_task_ids: [] });
    expect(follow.statusCode).toBe(403);
    expect(follow.json().detail).toMatch(/not a branch task/);
    const skip = await post("/execution/ti/finish", q.auth, { state: "success", skip_downstream: true });
    expect(skip.statusCode).toBe(403);
    expect(skip.json().detail).toMatch(/not a short-circuit task/);
    // Nothing changed: the try is still running and its downstream task untouched.
    expect((await tiRow(getDb(), key(runId, "extract"))).state).toBe("running");
    expect((await tiRow(getDb(), key(runId, "load"))).state).toBeNull();

    const b = await queueTi(getDb(), key(runId, "branch"));
    await post("/execution/ti/start", b.auth, runner);
    // airflow/models/skipmixin.py SkipMixin.skip_all_except: any task of the DAG may be followed,
    // an id the DAG does not have is an error.
    const far = await post("/execution/ti/finish", b.auth, { state: "success", follow_task_ids: ["nope"] });
    expect(far.statusCode).toBe(422);
    expect(far.json().detail).toMatch(/"nope", which is not a task of DAG/);
    expect((await tiRow(getDb(), key(runId, "b"))).state).toBeNull();
  });

  it("stores the return value a finish carries, and refuses one over core.xcom_max_size", async () => {
    const small = await startTestServer(getDb(), { xcomMaxSize: 64 });
    try {
      const runId = await newRun();
      const q = await queueTi(getDb(), key(runId, "extract"));
      await post("/execution/ti/start", q.auth, runner);
      const big = await small.server.app.inject({
        method: "POST",
        url: "/execution/ti/finish",
        headers: q.auth,
        payload: { state: "success", return_value: { value: "x".repeat(100) } },
      });
      expect(big.statusCode).toBe(413);
      expect(big.json().detail).toContain('XCom "return_value" of task "extract"');
      expect((await tiRow(getDb(), key(runId, "extract"))).state).toBe("running");
      const ok = await small.server.app.inject({
        method: "POST",
        url: "/execution/ti/finish",
        headers: q.auth,
        payload: { state: "success", return_value: { value: { rows: 7 } } },
      });
      expect(ok.json()).toEqual({ state: "success", next: null });
      const xcom = await getDb().db.selectFrom("xcom").selectAll().where("run_id", "=", runId).execute();
      expect(xcom.map((x) => [x.task_id, x.key, x.value])).toEqual([
        ["extract", "return_value", { rows: 7 }],
      ]);
    } finally {
      await small.server.close();
    }
  });

  it("stores a finish's further XComs (multipleOutputs) and rendered_map_index; refuses them on a failure", async () => {
    // airflow/models/taskinstance.py: _execute_task pushes each multiple_outputs key beside
    // return_value; rendered_map_index is the task instance's column.
    const runId = await newRun();
    const failing = await queueTi(getDb(), key(runId, "load"));
    await post("/execution/ti/start", failing.auth, runner);
    const refused = await post("/execution/ti/finish", failing.auth, {
      state: "failed",
      xcoms: [{ key: "total", value: 1 }],
    });
    expect(refused.statusCode).toBe(422);
    expect((await tiRow(getDb(), key(runId, "load"))).state).toBe("running");
    const q = await queueTi(getDb(), key(runId, "extract"));
    await post("/execution/ti/start", q.auth, runner);
    const twice = await post("/execution/ti/finish", q.auth, {
      state: "success",
      xcoms: [
        { key: "total", value: 1 },
        { key: "total", value: 2 },
      ],
    });
    expect(twice.statusCode).toBe(422);
    const fin = await post("/execution/ti/finish", q.auth, {
      state: "success",
      return_value: { value: { total: 2, names: ["a"] } },
      xcoms: [
        { key: "total", value: 2 },
        { key: "names", value: ["a"] },
      ],
      rendered_map_index: "extract for a",
    });
    expect(fin.statusCode).toBe(200);
    const xcom = await getDb()
      .db.selectFrom("xcom")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("key")
      .execute();
    expect(xcom.map((x) => [x.task_id, x.key, x.value])).toEqual([
      ["extract", "names", ["a"]],
      ["extract", "return_value", { total: 2, names: ["a"] }],
      ["extract", "total", 2],
    ]);
    expect(await tiRow(getDb(), key(runId, "extract"))).toMatchObject({
      state: "success",
      rendered_map_index: "extract for a",
    });
  });

  it("hands the runner its next try with the finish: already running, with its XCom prefetched", async () => {
    // Earlier tests left downstream tasks scheduled in older runs: they would come first.
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: null })
      .where("state", "=", "scheduled")
      .execute();
    const runId = await newRun();
    await startRun(runId);
    const q = await queueTi(getDb(), key(runId, "extract"));
    await post("/execution/ti/start", q.auth, runner);
    const fin = await post("/execution/ti/finish", q.auth, {
      state: "success",
      return_value: { value: { rows: 3 } },
      accept_next: runner,
    });
    expect(fin.statusCode).toBe(200);
    const body = fin.json();
    expect(body.state).toBe("success");
    expect(body.next.workload).toMatchObject({ kind: "task", ti: key(runId, "load"), try_number: 1 });
    expect(StartResponseSchema.parse(body.next.start).prefetched_xcoms).toEqual({
      "extract|return_value|-1": { rows: 3 },
    });
    const load = await tiRow(getDb(), key(runId, "load"));
    expect(load).toMatchObject({ state: "running", try_number: 1, hostname: "host-1", pid: 4242 });
    expect(load.start_date).not.toBeNull();
    // The scheduler has nothing to do for it: no event asked it to queue anything.
    expect(t.seen.some((e) => e.type === "ti_finished" && e.run_id === runId)).toBe(false);
    // The handed-over try reports with its own token, like any try.
    const next = await post(
      "/execution/ti/finish",
      { authorization: `Bearer ${body.next.workload.token}` },
      { state: "success" },
    );
    expect(next.json().state).toBe("success");
  });

  it("does not hand over a try the scheduler would not queue first (a higher priority waits)", async () => {
    const mine = await newRun();
    const other = await newRun();
    await startRun(mine);
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: "scheduled", priority_weight: 50, scheduled_dttm: new Date() })
      .where("run_id", "=", other)
      .where("task_id", "=", "sc")
      .execute();
    const q = await queueTi(getDb(), key(mine, "extract"));
    await post("/execution/ti/start", q.auth, runner);
    const fin = await post("/execution/ti/finish", q.auth, { state: "success", accept_next: runner });
    expect(fin.json()).toEqual({ state: "success", next: null });
    expect((await tiRow(getDb(), key(mine, "load"))).state).toBe("scheduled");
    expect((await tiRow(getDb(), key(other, "sc"))).state).toBe("scheduled");
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: null })
      .where("run_id", "=", other)
      .where("task_id", "=", "sc")
      .execute();
  });

  // Airflow's XCom serialization (json.dumps of the value) keeps an object's key order; a jsonb
  // column would sort keys by length and bytes. The values come back with the order they were
  // built in, through the XCom API and in a downstream task's prefetched XComs.
  it("keeps the key order of XCom values, pushed and returned", async () => {
    const runId = await newRun();
    const q = await queueTi(getDb(), key(runId, "extract"));
    await post("/execution/ti/start", q.auth, runner);
    const pushed = { zeta: 1, a: { yy: 1, b: 2 }, mid: [{ k2: 1, k1: 2 }], longest_key_here: null };
    expect((await post("/execution/xcom", q.auth, { key: "ordered", value: pushed })).statusCode).toBe(204);
    const returned = { b: 1, a: 2, c_is_longer: { z: true, y: false } };
    const fin = await post("/execution/ti/finish", q.auth, {
      state: "success",
      return_value: { value: returned },
    });
    expect(fin.statusCode).toBe(200);
    const read = async (xcomKey: string) =>
      (
        await t.server.app.inject({
          method: "GET",
          url: `/execution/xcom/${DAG.dag_id}/${encodeURIComponent(runId)}/extract?key=${xcomKey}&map_index=-1`,
          headers: q.auth,
        })
      ).body;
    expect(await read("ordered")).toBe(JSON.stringify({ key: "ordered", value: pushed }));
    expect(await read("return_value")).toBe(JSON.stringify({ key: "return_value", value: returned }));
    const down = await queueTi(getDb(), key(runId, "load"));
    const start = await post("/execution/ti/start", down.auth, runner);
    expect(JSON.stringify(start.json().prefetched_xcoms["extract|return_value|-1"])).toBe(
      JSON.stringify(returned),
    );
  });

  it("lets a token read XComs of its own run only, and mapped values as one list", async () => {
    const runA = await newRun();
    const runB = await newRun();
    const a = await queueTi(getDb(), key(runA, "extract"));
    await post("/execution/ti/start", a.auth, runner);
    await post("/execution/xcom", a.auth, { key: "return_value", value: [1, 2, 3] });
    const b = await queueTi(getDb(), key(runB, "load"));
    const own = await t.server.app.inject({
      method: "GET",
      url: `/execution/xcom/${DAG.dag_id}/${runA}/extract?key=return_value&map_index=-1`,
      headers: a.auth,
    });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ key: "return_value", value: [1, 2, 3] });
    const other = await t.server.app.inject({
      method: "GET",
      url: `/execution/xcom/${DAG.dag_id}/${runA}/extract`,
      headers: b.auth,
    });
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe("FORBIDDEN");
    const missing = await t.server.app.inject({
      method: "GET",
      url: `/execution/xcom/${DAG.dag_id}/${runB}/extract`,
      headers: b.auth,
    });
    expect(missing.statusCode).toBe(404);

    for (const mapIndex of [1, 0]) {
      await getDb()
        .db.insertInto("xcom")
        .values({
          dag_id: DAG.dag_id,
          run_id: runB,
          task_id: "fanout",
          map_index: mapIndex,
          key: "return_value",
          value: JSON.stringify(`v${mapIndex}`),
        })
        .execute();
    }
    const all = await t.server.app.inject({
      method: "GET",
      url: `/execution/xcom/${DAG.dag_id}/${runB}/fanout`,
      headers: b.auth,
    });
    expect(all.json()).toEqual({ key: "return_value", value: ["v0", "v1"] });
    const collect = await queueTi(getDb(), key(runB, "collect"));
    const start = await post("/execution/ti/start", collect.auth, runner);
    expect(start.json().prefetched_xcoms).toEqual({ "fanout|return_value|": ["v0", "v1"] });
  });

  it("refuses expired, forged and missing tokens with 401, and callback tokens that write with 403", async () => {
    const runId = await newRun();
    const k = key(runId, "extract");
    await queueTi(getDb(), k);
    const expired = await post("/execution/ti/start", tokenFor(k, 1, { expIn: -10 }).auth, runner);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe("TOKEN_EXPIRED");
    const [claimsPart] = tokenFor(k, 1).token.split(".");
    const forged = `${claimsPart ?? ""}.${Buffer.alloc(32, 7).toString("base64url")}`;
    expect(
      (await post("/execution/ti/start", { authorization: `Bearer ${forged}` }, runner)).statusCode,
    ).toBe(401);
    expect((await post("/execution/ti/start", {}, runner)).statusCode).toBe(401);
    const callback = await post("/execution/ti/start", tokenFor(k, 1, { scope: "callback" }).auth, runner);
    expect(callback.statusCode).toBe(403);
  });

  it("refuses an XCom over core.xcom_max_size with 413 naming the task, the size and the limit", async () => {
    const runId = await newRun();
    const q = await queueTi(getDb(), key(runId, "extract"));
    await post("/execution/ti/start", q.auth, runner);
    const huge = await post("/execution/xcom", q.auth, { key: "big", value: "x".repeat(10 * 1024 * 1024) });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers["content-type"]).toContain("application/problem+json");
    expect(huge.json().detail).toMatch(
      /task "extract" is 104857\d\d bytes, over core.xcom_max_size \(1048576 bytes\)/,
    );
    const over = await post("/execution/xcom", q.auth, { key: "big", value: "x".repeat(1_048_577) });
    expect(over.statusCode).toBe(413);
    expect(over.json().detail).toMatch(/XCom "big" of task "extract" is 1048579 bytes/);
    const nul = await post("/execution/xcom", q.auth, { key: "nul", value: "a\u0000b" });
    expect(nul.statusCode).toBe(422);
  });

  it("answers malformed JSON and wrong shapes with 400 and 422", async () => {
    const runId = await newRun();
    const q = await queueTi(getDb(), key(runId, "extract"));
    const bad = await t.server.app.inject({
      method: "POST",
      url: "/execution/ti/start",
      headers: { ...q.auth, "content-type": "application/json" },
      payload: '{"hostname": ',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toContain("application/problem+json");
    const wrong = await post("/execution/ti/start", q.auth, { hostname: 5 });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.json().code).toBe("REQUEST_INVALID");
    expect((await tiRow(getDb(), key(runId, "extract"))).state).toBe("queued");
  });
});

describe("execution API helpers", () => {
  it("builds valid serialized DAGs", () => {
    expect(DAG.tasks.find((x) => x.task_id === "branch")?.downstream_task_ids).toEqual(["a", "b", "join"]);
  });
});
