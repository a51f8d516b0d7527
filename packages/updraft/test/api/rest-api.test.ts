import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startJob } from "../../src/db/index.js";
import { withTestDatabases } from "../db-testing.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { syncDagBag, triggerDagRun } from "../../src/services/index.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, tiRow, type TestServer } from "./helpers.js";

const DAG = makeDag(
  "rest_dag",
  [{ id: "a", retries: 1 }, { id: "b", upstream: ["a"] }, { id: "c", upstream: ["b"] }, { id: "other" }],
  {
    params: {
      limit: { default: 10, type: "integer", maximum: 100 },
      region: { type: "string", enum: ["eu", "us"] },
    },
  },
);

withTestDatabases("REST API", (getDb) => {
  let t: TestServer;
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  beforeAll(async () => {
    await saveTestDag(getDb(), DAG);
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });
  const req = (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    payload?: unknown,
    headers: Record<string, string> = auth,
  ) =>
    t.server.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it("refuses every route but health without the API token", async () => {
    const routes: ["GET" | "POST" | "PATCH" | "DELETE", string][] = [
      ["GET", "/api/v1/dags"],
      ["GET", "/api/v1/dags/rest_dag"],
      ["PATCH", "/api/v1/dags/rest_dag"],
      ["GET", "/api/v1/dags/rest_dag/details"],
      ["POST", "/api/v1/dags/rest_dag/dagRuns"],
      ["GET", "/api/v1/dags/rest_dag/dagRuns"],
      ["GET", "/api/v1/dags/rest_dag/dagRuns/x/taskInstances/a/logs/1"],
      ["POST", "/api/v1/dags/rest_dag/clearTaskInstances"],
      ["GET", "/api/v1/variables"],
      ["DELETE", "/api/v1/variables/k"],
      ["GET", "/api/v1/connections/c"],
      ["POST", "/api/v1/pools"],
      ["GET", "/api/v1/importErrors"],
      ["GET", "/api/v1/nothing-here"],
    ];
    for (const [method, url] of routes) {
      for (const headers of [{}, { authorization: "Bearer wrong" }]) {
        const res = await req(method, url, method === "GET" || method === "DELETE" ? undefined : {}, headers);
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.headers["content-type"]).toContain("application/problem+json");
      }
    }
    await startJob(getDb().db, { jobType: "scheduler", hostname: "h", pid: 1 });
    const health = await req("GET", "/api/v1/health", undefined, {});
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      metadatabase: { status: "healthy" },
      scheduler: { status: "healthy" },
    });
    expect(health.json().scheduler.latest_scheduler_heartbeat).toMatch(/^\d{4}-/);
    // A triggerer that never ran is not reported unhealthy; one that heartbeats is listed with its beat.
    expect(health.json().triggerer).toEqual({ status: null, latest_triggerer_heartbeat: null });
    await startJob(getDb().db, { jobType: "triggerer", hostname: "h", pid: 2 });
    const after = (await req("GET", "/api/v1/health", undefined, {})).json();
    expect(after.triggerer.status).toBe("healthy");
    expect(after.triggerer.latest_triggerer_heartbeat).toMatch(/^\d{4}-/);
  });

  it("lists, shows, pauses and details DAGs", async () => {
    const list = await req("GET", "/api/v1/dags?limit=100000");
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({ total_entries: 1, dags: [{ dag_id: "rest_dag", is_paused: false }] });
    const paused = await req("PATCH", "/api/v1/dags/rest_dag", { is_paused: true });
    expect(paused.json().is_paused).toBe(true);
    expect(t.seen).toContainEqual({ type: "dag_changed", dag_id: "rest_dag" });
    await req("PATCH", "/api/v1/dags/rest_dag", { is_paused: false });
    const details = await req("GET", "/api/v1/dags/rest_dag/details");
    expect(details.json().tasks.map((x: { task_id: string }) => x.task_id)).toEqual(["a", "b", "c", "other"]);
    expect((await req("GET", "/api/v1/dags?limit=-1")).statusCode).toBe(400);
    expect((await req("PATCH", "/api/v1/dags/rest_dag", { is_paused: "yes" })).statusCode).toBe(422);
  });

  it("triggers a run with its task instances, and refuses bad conf, unknown DAGs and duplicates", async () => {
    const bad = await req("POST", "/api/v1/dags/rest_dag/dagRuns", { conf: { limit: 500, region: "mars" } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().code).toBe("PARAMS_INVALID");
    expect(bad.json().detail).toContain('param "limit": 500 is greater than maximum 100');
    expect(bad.json().detail).toContain('param "region": "mars" is not one of "eu", "us"');
    expect(await getDb().db.selectFrom("dag_run").selectAll().execute()).toHaveLength(0);
    expect((await req("POST", "/api/v1/dags/rest_dag/dagRuns", { conf: [1] })).statusCode).toBe(422);

    const unknown = await req("POST", "/api/v1/dags/nope/dagRuns", { conf: {} });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers["content-type"]).toContain("application/problem+json");
    expect(unknown.json()).toMatchObject({ status: 404, code: "DAG_NOT_FOUND", title: "Not Found" });
    expect(unknown.json().detail).toMatch(/updraft dags list/);

    const ok = await req("POST", "/api/v1/dags/rest_dag/dagRuns", {
      conf: { region: "eu" },
      logical_date: "2024-03-01T00:00:00Z",
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      dag_run_id: "manual__2024-03-01T00:00:00+00:00",
      state: "queued",
      run_type: "manual",
      conf: { region: "eu" },
      logical_date: "2024-03-01T00:00:00.000Z",
    });
    expect(t.seen).toContainEqual({
      type: "dag_run_created",
      dag_id: "rest_dag",
      run_id: "manual__2024-03-01T00:00:00+00:00",
    });
    const tis = await req(
      "GET",
      `/api/v1/dags/rest_dag/dagRuns/${encodeURIComponent("manual__2024-03-01T00:00:00+00:00")}/taskInstances`,
    );
    expect(tis.json().total_entries).toBe(4);
    expect(tis.json().task_instances[0]).toMatchObject({
      task_id: "a",
      max_tries: 1, // retries (Airflow's meaning)
      state: null,
      map_index: -1,
    });

    const dupId = await req("POST", "/api/v1/dags/rest_dag/dagRuns", {
      conf: { region: "us" },
      dag_run_id: "manual__2024-03-01T00:00:00+00:00",
    });
    expect(dupId.statusCode).toBe(409);
    expect(dupId.json().code).toBe("DAG_RUN_EXISTS");
    const dupDate = await req("POST", "/api/v1/dags/rest_dag/dagRuns", {
      conf: { region: "us" },
      logical_date: "2024-03-01T00:00:00Z",
      dag_run_id: "other",
    });
    expect(dupDate.statusCode).toBe(409);
    const runs = await req("GET", "/api/v1/dags/rest_dag/dagRuns");
    expect(runs.json().total_entries).toBe(1);
    expect((await req("GET", "/api/v1/dags/rest_dag/dagRuns/nope")).statusCode).toBe(404);
  });

  it("answers malformed JSON with 400 and hostile ids with 400 or 404", async () => {
    const malformed = await t.server.app.inject({
      method: "POST",
      url: "/api/v1/dags/rest_dag/dagRuns",
      headers: { ...auth, "content-type": "application/json" },
      payload: "{conf:",
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers["content-type"]).toContain("application/problem+json");
    const proto = await t.server.app.inject({
      method: "POST",
      url: "/api/v1/variables",
      headers: { ...auth, "content-type": "application/json" },
      payload: '{"key":"k","value":"v","__proto__":{"x":1}}',
    });
    expect(proto.statusCode).toBe(400);

    expect((await req("GET", "/api/v1/dags/a%00b")).statusCode).toBe(400);
    expect((await req("GET", "/api/v1/variables/a%00b")).statusCode).toBe(400);
    expect((await req("POST", "/api/v1/dags/rest_dag/dagRuns", { dag_run_id: "x\u0000y" })).statusCode).toBe(
      422,
    );
    expect(
      (
        await req("POST", "/api/v1/dags/rest_dag/dagRuns", {
          dag_run_id: "../../etc",
          conf: { region: "eu" },
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (await req("POST", "/api/v1/dags/rest_dag/dagRuns", { conf: { region: "eu", x: "a\u0000" } }))
        .statusCode,
    ).toBe(422);
    expect((await req("GET", "/api/v1/dags/..%2F..%2Fetc")).statusCode).toBe(404);
    expect(
      (await req("GET", "/api/v1/dags/rest_dag/dagRuns/..%2F..%2F/taskInstances/..%2F..%2Fpasswd/logs/1"))
        .statusCode,
    ).toBe(404);
    expect(
      (await req("GET", `/api/v1/dags/rest_dag/dagRuns/x/taskInstances/a/logs/${"9".repeat(30)}`)).statusCode,
    ).toBe(400);
    expect((await req("GET", `/api/v1/dags/${"d".repeat(300)}`)).statusCode).toBe(400);
  });

  it("serves a task's log from the log folder, and 404 when there is none", async () => {
    const run = await triggerDagRun(getDb().db, {
      dagId: "rest_dag",
      runId: "logs_run",
      conf: { region: "eu" },
    });
    await getDb()
      .db.updateTable("task_instance")
      .set({ try_number: 1 })
      .where("run_id", "=", run.run_id)
      .where("task_id", "=", "a")
      .execute();
    const file = join(
      t.config.logging.base_log_folder,
      taskLogRelativePath({ dag_id: "rest_dag", run_id: "logs_run", task_id: "a", map_index: -1 }, 1),
    );
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, "hello from a\n");
    const json = await req("GET", "/api/v1/dags/rest_dag/dagRuns/logs_run/taskInstances/a/logs/1");
    expect(json.json()).toEqual({ content: "hello from a\n", continuation_token: null });
    const text = await req(
      "GET",
      "/api/v1/dags/rest_dag/dagRuns/logs_run/taskInstances/a/logs/1",
      undefined,
      { ...auth, accept: "text/plain" },
    );
    expect(text.body).toBe("hello from a\n");
    expect(
      (await req("GET", "/api/v1/dags/rest_dag/dagRuns/logs_run/taskInstances/a/logs/2")).statusCode,
    ).toBe(404);
    expect(
      (await req("GET", "/api/v1/dags/rest_dag/dagRuns/logs_run/taskInstances/b/logs/1")).statusCode,
    ).toBe(404);
  });

  it("never shows a connection's password, and redacts secret extras and variables", async () => {
    const created = await req("POST", "/api/v1/connections", {
      connection_id: "warehouse",
      conn_type: "postgres",
      host: "db",
      login: "etl",
      password: "hunter2-secret",
      port: 5432,
      extra: { sslmode: "require", api_token: "tok-secret" },
    });
    expect(created.statusCode).toBe(200);
    for (const res of [
      created,
      await req("GET", "/api/v1/connections/warehouse"),
      await req("GET", "/api/v1/connections"),
    ]) {
      expect(res.body).not.toContain("hunter2");
      expect(res.body).not.toContain("tok-secret");
    }
    expect((await req("GET", "/api/v1/connections/warehouse")).json()).toMatchObject({
      connection_id: "warehouse",
      login: "etl",
      port: 5432,
    });
    const stored = await getDb().db.selectFrom("connection").selectAll().executeTakeFirstOrThrow();
    expect(stored.password).not.toContain("hunter2");
    expect(
      (await req("POST", "/api/v1/connections", { connection_id: "warehouse", conn_type: "x" })).statusCode,
    ).toBe(409);
    const patched = await req("PATCH", "/api/v1/connections/warehouse", { host: "db2" });
    expect(patched.json().host).toBe("db2");
    expect(patched.body).not.toContain("hunter2");
    expect((await req("DELETE", "/api/v1/connections/warehouse")).statusCode).toBe(204);
    expect((await req("GET", "/api/v1/connections/warehouse")).statusCode).toBe(404);

    expect(
      (await req("POST", "/api/v1/variables", { key: "db_password", value: "s3cret" })).json().value,
    ).toBe("***");
    expect((await req("POST", "/api/v1/variables", { key: "region", value: "eu" })).json().value).toBe("eu");
    expect((await req("POST", "/api/v1/variables", { key: "region", value: "us" })).statusCode).toBe(409);
    expect((await req("PATCH", "/api/v1/variables/region", { value: "us" })).json().value).toBe("us");
    const vars = await req("GET", "/api/v1/variables");
    expect(vars.json().total_entries).toBe(2);
    expect(vars.body).not.toContain("s3cret");
    expect((await req("DELETE", "/api/v1/variables/region")).statusCode).toBe(204);
    expect((await req("DELETE", "/api/v1/variables/region")).statusCode).toBe(404);
  });

  it("manages pools and refuses to delete default_pool", async () => {
    expect((await req("POST", "/api/v1/pools", { name: "gpu", slots: 2 })).json()).toMatchObject({
      name: "gpu",
      slots: 2,
      open_slots: 2,
    });
    expect((await req("POST", "/api/v1/pools", { name: "gpu", slots: 2 })).statusCode).toBe(409);
    expect((await req("POST", "/api/v1/pools", { name: "bad", slots: -5 })).statusCode).toBe(422);
    expect((await req("PATCH", "/api/v1/pools/gpu", { slots: 4 })).json().slots).toBe(4);
    expect((await req("GET", "/api/v1/pools")).json().total_entries).toBe(2);
    expect((await req("DELETE", "/api/v1/pools/default_pool")).statusCode).toBe(409);
    expect((await req("DELETE", "/api/v1/pools/gpu")).statusCode).toBe(204);
    expect((await req("GET", "/api/v1/pools/gpu")).statusCode).toBe(404);
  });

  it("clears task instances as Airflow's tasks clear does", async () => {
    const run = await triggerDagRun(getDb().db, {
      dagId: "rest_dag",
      runId: "clear_run",
      conf: { region: "eu" },
    });
    const set = (taskId: string, state: "success" | "failed" | "running", tryNumber: number) =>
      getDb()
        .db.updateTable("task_instance")
        .set({ state, try_number: tryNumber })
        .where("run_id", "=", run.run_id)
        .where("task_id", "=", taskId)
        .execute();
    await set("a", "failed", 2);
    await set("b", "success", 1);
    await set("c", "success", 1);
    await set("other", "running", 1);
    await getDb()
      .db.updateTable("dag_run")
      .set({ state: "failed" })
      .where("run_id", "=", run.run_id)
      .execute();

    const dry = await req("POST", "/api/v1/dags/rest_dag/clearTaskInstances", { dag_run_id: "clear_run" });
    expect(dry.json().task_instances.map((x: { task_id: string }) => x.task_id)).toEqual(["a"]);
    expect(
      (await tiRow(getDb(), { dag_id: "rest_dag", run_id: "clear_run", task_id: "a", map_index: -1 })).state,
    ).toBe("failed");

    const withDown = await req("POST", "/api/v1/dags/rest_dag/clearTaskInstances", {
      dag_run_id: "clear_run",
      dry_run: false,
      only_failed: false,
      task_ids: ["a", "other"],
      include_downstream: true,
    });
    expect(withDown.statusCode).toBe(200);
    expect(withDown.json().task_instances.map((x: { task_id: string }) => x.task_id)).toEqual([
      "a",
      "b",
      "c",
      "other",
    ]);
    expect(withDown.json().dag_runs_requeued).toEqual(["clear_run"]);
    const key = (taskId: string) => ({
      dag_id: "rest_dag",
      run_id: "clear_run",
      task_id: taskId,
      map_index: -1,
    });
    // Airflow 2.10 clear_task_instances: max_tries = try_number + task.retries.
    expect(await tiRow(getDb(), key("a"))).toMatchObject({ state: null, try_number: 2, max_tries: 3 });
    expect(await tiRow(getDb(), key("b"))).toMatchObject({ state: null, try_number: 1, max_tries: 1 });
    expect((await tiRow(getDb(), key("other"))).state).toBe("restarting");
    const dr = await getDb()
      .db.selectFrom("dag_run")
      .selectAll()
      .where("run_id", "=", "clear_run")
      .executeTakeFirstOrThrow();
    expect(dr).toMatchObject({ state: "queued", clear_number: 1, end_date: null });
    expect(
      (await req("POST", "/api/v1/dags/rest_dag/clearTaskInstances", { task_ids: ["zzz"] })).statusCode,
    ).toBe(404);
    expect((await req("POST", "/api/v1/dags/nope/clearTaskInstances", {})).statusCode).toBe(404);
  });

  it("writes the DAG processor's results: DAGs, next run, import errors, removals", async () => {
    const cron = makeDag("cron_dag", [{ id: "t" }], {
      schedule: "@daily",
      timetable_summary: "@daily",
      fileloc: "/dags/cron.ts",
    });
    const result = await syncDagBag(
      getDb().db,
      {
        upsertedDags: [cron],
        removedDagIds: [],
        importErrorChanges: [{ filename: "/dags/broken.ts", errors: [{ error: "SyntaxError: x", line: 3 }] }],
      },
      { pausedAtCreation: true },
    );
    expect(result.upserted).toEqual(["cron_dag"]);
    const row = await getDb()
      .db.selectFrom("dag")
      .selectAll()
      .where("dag_id", "=", "cron_dag")
      .executeTakeFirstOrThrow();
    expect(row.is_paused).toBe(true);
    expect(row.next_dagrun).not.toBeNull();
    expect(row.next_dagrun_create_after?.getTime()).toBe((row.next_dagrun?.getTime() ?? 0) + 86_400_000);
    const errors = await req("GET", "/api/v1/importErrors");
    expect(errors.json()).toMatchObject({
      total_entries: 1,
      import_errors: [{ filename: "/dags/broken.ts", stack_trace: "SyntaxError: x", line: 3 }],
    });
    await syncDagBag(
      getDb().db,
      {
        upsertedDags: [],
        removedDagIds: ["cron_dag"],
        importErrorChanges: [{ filename: "/dags/broken.ts", errors: [] }],
      },
      { pausedAtCreation: true },
    );
    expect(
      (
        await getDb()
          .db.selectFrom("dag")
          .select("is_active")
          .where("dag_id", "=", "cron_dag")
          .executeTakeFirstOrThrow()
      ).is_active,
    ).toBe(false);
    expect((await req("GET", "/api/v1/importErrors")).json().total_entries).toBe(0);
  });
});
