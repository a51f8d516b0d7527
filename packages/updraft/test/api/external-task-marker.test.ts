// ExternalTaskMarker through the REST clear (Airflow's clear with dependent DAGs): clearing a
// marker with its downstream also clears the marked task and its downstream in the other DAG's run
// of the same logical date, through further markers up to recursionDepth; dry runs list them.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { triggerDagRun } from "../../src/services/index.js";
import { API_TOKEN, makeDag, saveTestDag, startTestServer, type TestServer } from "./helpers.js";

const marker = (id: string, upstream: string[], fields: Record<string, unknown>) => ({
  id,
  upstream,
  operator: "ExternalTaskMarker",
  fields: { logicalDate: "{{ logical_date }}", recursionDepth: 10, ...fields },
});

withTestDatabases("ExternalTaskMarker on clear", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(getDb(), { apiToken: API_TOKEN });
  });
  afterAll(async () => {
    await t.server.close();
  });
  const clear = (dagId: string, body: Record<string, unknown>) =>
    t.server.app.inject({
      method: "POST",
      url: `/api/v1/dags/${dagId}/clearTaskInstances`,
      headers: { authorization: `Bearer ${API_TOKEN}` },
      payload: { only_failed: false, ...body },
    });
  /** Saves the DAGs, runs each on June 1 and 2 of 2024 with every task successful. */
  const setup = async (...dags: ReturnType<typeof makeDag>[]) => {
    for (const dag of dags) {
      await saveTestDag(getDb(), dag);
      for (const day of ["01", "02"]) {
        await triggerDagRun(
          getDb().db,
          {
            dagId: dag.dag_id,
            conf: {},
            runId: `r${day}`,
            logicalDate: `2024-06-${day}T00:00:00Z`,
            note: null,
            owner: "test",
          },
          { events: null, defaultTimezone: "UTC" },
        );
      }
      await getDb()
        .db.updateTable("task_instance")
        .set({ state: "success" })
        .where("dag_id", "=", dag.dag_id)
        .execute();
      await getDb()
        .db.updateTable("dag_run")
        .set({ state: "success" })
        .where("dag_id", "=", dag.dag_id)
        .execute();
    }
  };
  /** `dag.run.task` of every task instance not in success. */
  const cleared = async (...dagIds: string[]) => {
    const rows = await getDb()
      .db.selectFrom("task_instance")
      .select(["dag_id", "run_id", "task_id", "state"])
      .where("dag_id", "in", dagIds)
      .execute();
    return rows
      .filter((r) => r.state !== "success")
      .map((r) => `${r.dag_id}.${r.run_id}.${r.task_id}`)
      .sort();
  };
  const listed = (body: { task_instances: { dag_id: string; dag_run_id: string; task_id: string }[] }) =>
    body.task_instances.map((x) => `${x.dag_id}.${x.dag_run_id}.${x.task_id}`);

  it("clears the marked task and its downstream in the other DAG's run of that date, dry runs first", async () => {
    await setup(
      makeDag("etm_parent", [
        { id: "a" },
        marker("mark", ["a"], { externalDagId: "etm_child", externalTaskId: "wait" }),
      ]),
      makeDag("etm_child", [
        { id: "before" },
        { id: "wait", upstream: ["before"] },
        { id: "load", upstream: ["wait"] },
      ]),
    );
    const dry = await clear("etm_parent", { dag_run_id: "r01", task_ids: ["a"], include_downstream: true });
    expect(dry.statusCode).toBe(200);
    expect(listed(dry.json())).toEqual([
      "etm_parent.r01.a",
      "etm_parent.r01.mark",
      "etm_child.r01.load",
      "etm_child.r01.wait",
    ]);
    expect(await cleared("etm_parent", "etm_child")).toEqual([]);

    // Without downstream the marker itself is not selected, and nothing else is cleared.
    const own = await clear("etm_parent", { dag_run_id: "r01", task_ids: ["a"], dry_run: false });
    expect(listed(own.json())).toEqual(["etm_parent.r01.a"]);
    expect(await cleared("etm_child")).toEqual([]);

    const res = await clear("etm_parent", {
      dag_run_id: "r01",
      task_ids: ["mark"],
      include_downstream: true,
      dry_run: false,
    });
    expect(res.statusCode).toBe(200);
    // The parent's run went back to queued at the first clear already.
    expect(res.json().dag_runs_requeued).toEqual([]);
    expect(await cleared("etm_parent", "etm_child")).toEqual([
      "etm_child.r01.load",
      "etm_child.r01.wait",
      "etm_parent.r01.a",
      "etm_parent.r01.mark",
    ]);
    // The child's run of that date was set back to queued; its run of June 2 was left alone.
    const runs = await getDb()
      .db.selectFrom("dag_run")
      .select(["run_id", "state"])
      .where("dag_id", "=", "etm_child")
      .orderBy("run_id")
      .execute();
    expect(runs).toEqual([
      { run_id: "r01", state: "queued" },
      { run_id: "r02", state: "success" },
    ]);
  });

  it("follows markers through several DAGs up to the first marker's recursionDepth, naming the chain past it", async () => {
    const chainOf = (depth: number, prefix: string) => [
      makeDag(`${prefix}_1`, [
        marker("m1", [], { externalDagId: `${prefix}_2`, externalTaskId: "m2", recursionDepth: depth }),
      ]),
      makeDag(`${prefix}_2`, [marker("m2", [], { externalDagId: `${prefix}_3`, externalTaskId: "end" })]),
      makeDag(`${prefix}_3`, [{ id: "end" }]),
    ];
    await setup(...chainOf(2, "etm_ok"), ...chainOf(1, "etm_deep"));

    const ok = await clear("etm_ok_1", { dag_run_id: "r02", include_downstream: true, dry_run: false });
    expect(ok.statusCode).toBe(200);
    expect(await cleared("etm_ok_1", "etm_ok_2", "etm_ok_3")).toEqual([
      "etm_ok_1.r02.m1",
      "etm_ok_2.r02.m2",
      "etm_ok_3.r02.end",
    ]);

    const deep = await clear("etm_deep_1", { dag_run_id: "r02", include_downstream: true, dry_run: false });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().code).toBe("EXTERNAL_TASK_MARKER_DEPTH_EXCEEDED");
    expect(deep.json().detail).toContain("etm_deep_1.m1 → etm_deep_2.m2");
    // Refused as a whole: nothing was cleared.
    expect(await cleared("etm_deep_1", "etm_deep_2", "etm_deep_3")).toEqual([]);
  });

  it("renders templated dates from the run and refuses markers of missing tasks or bad dates", async () => {
    await setup(
      makeDag("etm_tpl", [
        marker("prev", [], {
          externalDagId: "etm_tpl_child",
          externalTaskId: "x",
          logicalDate: "{{ ds }}T00:00:00Z",
        }),
        marker("missing", [], { externalDagId: "etm_tpl_child", externalTaskId: "nope" }),
        marker("bad", [], {
          externalDagId: "etm_tpl_child",
          externalTaskId: "x",
          logicalDate: "{{ ds }} soon",
        }),
      ]),
      makeDag("etm_tpl_child", [{ id: "x" }]),
    );
    const ok = await clear("etm_tpl", { dag_run_id: "r02", task_ids: ["prev"], include_downstream: true });
    expect(listed(ok.json())).toEqual(["etm_tpl.r02.prev", "etm_tpl_child.r02.x"]);
    const missing = await clear("etm_tpl", {
      dag_run_id: "r02",
      task_ids: ["missing"],
      include_downstream: true,
    });
    expect(missing.json().code).toBe("EXTERNAL_TASK_MARKER_TARGET_NOT_FOUND");
    expect(missing.json().detail).toContain('"nope"');
    const bad = await clear("etm_tpl", { dag_run_id: "r02", task_ids: ["bad"], include_downstream: true });
    expect(bad.json().code).toBe("EXTERNAL_TASK_MARKER_DATE_INVALID");
    expect(bad.json().detail).toContain("2024-06-02 soon");
  });
});
