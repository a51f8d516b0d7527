// DAG deadline alerts on the SLA timer with two schedulers: the miss is recorded once (the
// `deadline` table's key settles the race), one callback workload goes to one executor, an alert
// not yet due is listed as ahead, and a DAG file with a bad reference is refused with its name.
import { afterEach, expect, it } from "vitest";
import type { CallbackWorkload } from "../../src/model/execution-api.js";
import { serializeDag } from "../../src/model/serialize-dag.js";
import type { Scheduler } from "../../src/scheduler/index.js";
import { dag, task } from "../../src/sdk/index.js";
import { API_TOKEN, startTestServer, triggerTestRun } from "../api/helpers.js";
import { withTestDatabases } from "../db-testing.js";
import { newScheduler, saveSdkDag, testConfig, TestExecutor } from "./helpers.js";

const noop = (): undefined => undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

withTestDatabases("deadline alerts", (getDb) => {
  const running: Scheduler[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it("records a passed deadline once across two schedulers and sends one callback", async () => {
    const database = getDb();
    const due = new Date(Date.now() + 1500);
    await saveSdkDag(
      database,
      dag(
        {
          dagId: "deadline_dag",
          deadline: [
            { reference: due, interval: 0, callback: noop },
            { reference: "queuedAt", interval: "1h", callback: noop },
          ],
        },
        () => {
          task("wait", noop)();
        },
      ),
    );
    await triggerTestRun(database, "deadline_dag", "2024-06-01T00:00:00Z");
    const config = testConfig({ "scheduler.scheduler_heartbeat_sec": 60 });
    const executors = [new TestExecutor(database), new TestExecutor(database)];
    for (const exec of executors) {
      const scheduler = newScheduler(database, config, exec);
      running.push(scheduler);
      await scheduler.start();
    }
    // On a slow machine the schedulers may start after the deadline: then it is due at once.
    const dueAt = Math.max(due.getTime(), Date.now());
    const callbacks = () =>
      executors
        .flatMap((e) => e.callbacks)
        .filter((w): w is CallbackWorkload => w.kind === "callback" && w.callback === "deadline_miss");
    for (let i = 0; i < 60 && callbacks().length === 0; i++) await sleep(50);
    await sleep(300); // a second scheduler's late insert would show by now
    expect(callbacks()).toHaveLength(1);
    expect(callbacks()[0]?.deadline).toMatchObject({
      alert_index: 0,
      reference_type: "FixedDatetimeDeadline",
      deadline_time: due.toISOString(),
    });
    const rows = await database.db.selectFrom("deadline").selectAll().execute();
    expect(rows.map((r) => r.alert_index)).toEqual([0]);
    expect(rows[0]?.created_at.getTime()).toBeGreaterThanOrEqual(due.getTime());
    const late = (rows[0]?.created_at.getTime() ?? Infinity) - dueAt;
    expect(late).toBeLessThan(1000);
    const t = await startTestServer(database);
    const listed = await t.server.app.inject({
      url: "/api/v1/dags/deadline_dag/dagRuns/manual__2024-06-01T00:00:00+00:00/deadlines",
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    await t.server.close();
    expect(listed.json()).toMatchObject({
      total_entries: 2,
      deadlines: [
        { alert_index: 0, missed: true, deadline_time: due.toISOString() },
        { alert_index: 1, missed: false, missed_at: null, reference_type: "DagRunQueuedAtDeadline" },
      ],
    });
  });
});

it("refuses a deadline with an unknown reference, naming it", () => {
  const bad = dag(
    // @ts-expect-error "startDate" is not a deadline reference
    { dagId: "bad_deadline", deadline: { reference: "startDate", interval: "1h", callback: noop } },
    () => {
      task("t", noop)();
    },
  );
  expect(() => serializeDag(bad, "/dags/bad.ts", "None")).toThrow(
    /deadline\[0\]: reference must be "logicalDate", "queuedAt" or a Date/,
  );
});
