// A finish hands its freed slot to the head of the backlog in another run of the same DAG only
// where no run of that DAG can reach max_active_tasks (services/hand-over.ts crossRun, decision
// 0040): the try handed over gets its own run's context and XCom, and the finished run's own
// decisions still apply.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import type { TaskInstanceKey } from "../../src/model/execution-api.js";
import { StartResponseSchema } from "../../src/model/execution-api.js";
import type { SerializedDag } from "../../src/model/serialized-dag.js";
import { triggerDagRun } from "../../src/services/index.js";
import {
  makeDag,
  queueTi,
  saveTestDag,
  startTestServer,
  tiRow,
  type TaskSpec,
  type TestServer,
} from "./helpers.js";

const CHAIN: TaskSpec[] = [
  { id: "extract" },
  {
    id: "load",
    upstream: ["extract"],
    fields: { rows: { __xcom__: { task_id: "extract", key: "return_value" } } },
  },
];

let runCounter = 0;

withTestDatabases("hand-over across runs", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(getDb());
  });
  afterAll(async () => {
    await t.server.close();
  });

  const runner = { hostname: "host-1", pid: 4242 };
  const key = (dagId: string, runId: string, taskId: string): TaskInstanceKey => ({
    dag_id: dagId,
    run_id: runId,
    task_id: taskId,
    map_index: -1,
  });
  const post = (url: string, headers: Record<string, string>, payload: unknown) =>
    t.server.app.inject({ method: "POST", url, headers, payload: payload as Record<string, unknown> });

  /** A running run of `dag` (its task instances made as a trigger makes them). */
  async function newRun(dag: SerializedDag): Promise<string> {
    const runId = `run_${++runCounter}`;
    await triggerDagRun(getDb().db, {
      dagId: dag.dag_id,
      runId,
      logicalDate: new Date(Date.UTC(2024, 0, runCounter)),
    });
    await getDb().db.updateTable("dag_run").set({ state: "running" }).where("run_id", "=", runId).execute();
    return runId;
  }

  /** Runs `extract` of `runId` to success with `value`, taking a next try if `accept`. */
  async function finishExtract(dagId: string, runId: string, value: unknown, accept: boolean) {
    const q = await queueTi(getDb(), key(dagId, runId, "extract"));
    expect((await post("/execution/ti/start", q.auth, runner)).statusCode).toBe(200);
    const fin = await post("/execution/ti/finish", q.auth, {
      state: "success",
      return_value: { value },
      ...(accept ? { accept_next: runner } : {}),
    });
    expect(fin.statusCode).toBe(200);
    return fin.json() as {
      state: string;
      next: { workload: { ti: TaskInstanceKey; token: string }; start: unknown } | null;
    };
  }

  /** Nothing left scheduled by an earlier test: the backlog's head is global. */
  async function clearBacklog(): Promise<void> {
    await getDb()
      .db.updateTable("task_instance")
      .set({ state: null })
      .where("state", "=", "scheduled")
      .execute();
  }

  it("hands the older run's waiting task over, with that run's XCom, and still schedules its own", async () => {
    const dag = makeDag("cross_chain", CHAIN);
    await saveTestDag(getDb(), dag);
    await clearBacklog();
    const older = await newRun(dag);
    const newer = await newRun(dag);
    // The older run's load waits, scheduled (no runner took it with a finish).
    expect((await finishExtract(dag.dag_id, older, { from: "older" }, false)).next).toBeNull();
    expect((await tiRow(getDb(), key(dag.dag_id, older, "load"))).state).toBe("scheduled");

    const body = await finishExtract(dag.dag_id, newer, { from: "newer" }, true);
    // The scheduler would queue the older run's load first (its logical date is earlier).
    expect(body.next?.workload.ti).toEqual(key(dag.dag_id, older, "load"));
    const start = StartResponseSchema.parse(body.next?.start);
    expect(start.dag_run).toMatchObject({ dag_id: dag.dag_id, run_id: older });
    expect(start.prefetched_xcoms).toEqual({ "extract|return_value|-1": { from: "older" } });
    expect(await tiRow(getDb(), key(dag.dag_id, older, "load"))).toMatchObject({
      state: "running",
      try_number: 1,
      hostname: "host-1",
    });
    // The finished run's own downstream task is scheduled all the same, and the scheduler is told.
    expect((await tiRow(getDb(), key(dag.dag_id, newer, "load"))).state).toBe("scheduled");
    expect(t.seen.some((e) => e.type === "ti_finished" && e.run_id === newer && e.scheduled === 1)).toBe(
      true,
    );

    // The handed-over try reports with its own token, in its own run.
    const next = await post(
      "/execution/ti/finish",
      { authorization: `Bearer ${body.next?.workload.token ?? ""}` },
      { state: "success" },
    );
    expect(next.json().state).toBe("success");
    expect((await tiRow(getDb(), key(dag.dag_id, older, "load"))).state).toBe("success");
  });

  /**
   * The older run's load waits scheduled when the newer run's extract finishes wanting more, and
   * stays so: nothing is handed over. `dag` becomes `later` (if given) before the newer run.
   */
  async function expectStaysInItsRun(dag: SerializedDag, later: SerializedDag = dag): Promise<void> {
    await saveTestDag(getDb(), dag);
    await clearBacklog();
    const older = await newRun(dag);
    // A mapped task is scheduled too: only the chain's tasks are in the way here.
    await getDb().db.updateTable("task_instance").set({ state: null }).where("task_id", "=", "fan").execute();
    await finishExtract(dag.dag_id, older, 1, false);
    if (later !== dag) await saveTestDag(getDb(), later);
    const newer = await newRun(later);
    const body = await finishExtract(dag.dag_id, newer, 2, true);
    expect(body.next).toBeNull();
    expect((await tiRow(getDb(), key(dag.dag_id, older, "load"))).state).toBe("scheduled");
  }

  it("stays in its run when the DAG has more tasks than max_active_tasks", async () => {
    await expectStaysInItsRun(makeDag("cross_limited", CHAIN, { max_active_tasks: 1 }));
  });

  it("stays in its run when the other run holds a per-run task limit", async () => {
    await expectStaysInItsRun(
      makeDag("cross_per_run", [CHAIN[0]!, { ...CHAIN[1]!, task: { max_active_tis_per_dagrun: 1 } }]),
    );
  });

  it("stays in its run when the other run was made with another version of the DAG", async () => {
    const before = makeDag("cross_versions", CHAIN);
    const after = makeDag("cross_versions", CHAIN, { description: "changed" });
    expect(after.dag_hash).not.toBe(before.dag_hash);
    await expectStaysInItsRun(before, after);
  });

  it("stays in its run when the DAG has a mapped task (a run's size is not known)", async () => {
    await expectStaysInItsRun(makeDag("cross_mapped", [...CHAIN, { id: "fan", expand: { n: [1, 2] } }]));
  });
});
