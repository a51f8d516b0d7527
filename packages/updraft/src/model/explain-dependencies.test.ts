import { describe, expect, it } from "vitest";
import { dag, task } from "../sdk/index.js";
import { DagPlan } from "./dag-plan.js";
import { DEP, explainDependencies, type DependencyFacts } from "./explain-dependencies.js";
import { nextRetryDelayMs } from "./retry-delay.js";
import { serializeDag } from "./serialize-dag.js";

const noop = (): undefined => undefined;
const etl = dag({ dagId: "etl", maxActiveTasks: 2 }, () => {
  const e = task("extract", noop)();
  const f = task({ taskId: "flaky", retries: 3, retryDelay: "5m" }, noop)();
  const l = task(
    { taskId: "load", maxActiveTisPerDag: 1, maxActiveTisPerDagrun: 1, pool: "db", poolSlots: 2 },
    noop,
  )();
  e.before(l);
  f.before(l);
});
const s = serializeDag(etl, "/dags/etl.ts", "None");
const plan = new DagPlan(s, s.dag_hash);
const NOW = new Date("2024-05-01T12:00:00Z");

function facts(
  over: Partial<Omit<DependencyFacts, "ti">> & { ti?: Partial<DependencyFacts["ti"]> } = {},
): DependencyFacts {
  const { ti, ...rest } = over;
  return {
    dagId: "etl",
    dagPaused: false,
    run: { state: "running", run_type: "manual", logical_date: new Date("2024-05-01T00:00:00Z") },
    plan,
    upstream: [
      { task_id: "extract", map_index: -1, state: "success" },
      { task_id: "flaky", map_index: -1, state: "success" },
    ],
    past: null,
    pool: { pool: "db", slots: 4, running: 0, queued: 0, open: 4 },
    active: { run: 0, taskInDag: 0, taskInRun: 0 },
    defaultMaxActiveTasks: 16,
    now: NOW,
    ...rest,
    ti: {
      task_id: "load",
      map_index: -1,
      state: null,
      try_number: 0,
      next_retry_at: null,
      end_date: null,
      pool: "db",
      pool_slots: 2,
      ...ti,
    },
  };
}

describe("explainDependencies", () => {
  it("names the upstream tasks that hold back the trigger rule, with their states", () => {
    const out = explainDependencies(
      facts({
        upstream: [
          { task_id: "extract", map_index: -1, state: "running" },
          { task_id: "flaky", map_index: -1, state: "success" },
        ],
      }),
    );
    expect(out.dependencies).toHaveLength(1);
    expect(out.dependencies[0]?.name).toBe(DEP.triggerRule);
    expect(out.dependencies[0]?.reason).toContain('trigger rule "all_success"');
    expect(out.dependencies[0]?.reason).toContain("extract=running, flaky=success");
    expect(out.message).toContain("Trigger Rule");
  });

  it("says when the rule can no longer be met and what the scheduler will do", () => {
    const out = explainDependencies(
      facts({
        upstream: [
          { task_id: "extract", map_index: -1, state: "failed" },
          { task_id: "flaky", map_index: -1, state: "success" },
        ],
      }),
    );
    expect(out.dependencies[0]?.reason).toContain("sets this instance to upstream_failed");
  });

  it("finds nothing unmet when the upstreams succeeded", () => {
    const out = explainDependencies(facts());
    expect(out.dependencies).toEqual([]);
    expect(out.message).toContain("schedules this task instance at its next pass");
  });

  it("explains a full pool, the DAG's max_active_tasks and the task's limits of a scheduled instance", () => {
    const out = explainDependencies(
      facts({
        ti: { state: "scheduled" },
        pool: { pool: "db", slots: 3, running: 1, queued: 1, open: 1 },
        active: { run: 2, taskInDag: 1, taskInRun: 1 },
      }),
    );
    const reasons = out.dependencies.map((d) => `${d.name}: ${d.reason}`);
    expect(reasons).toEqual([
      "Pool Slots Available: Pool 'db' has 1 open slot(s) of 3 (1 running, 1 queued) and this task needs 2.",
      expect.stringMatching(/^Task Instance Slots Available: .*2 task instance\(s\).*max_active_tasks \(2\)/),
      expect.stringMatching(/^Task Concurrency: .*max_active_tis_per_dag \(1\)/),
      expect.stringMatching(/^Task Concurrency: .*max_active_tis_per_dagrun \(1\)/),
    ]);
  });

  it("says a missing pool fails the task", () => {
    const out = explainDependencies(facts({ ti: { state: "scheduled" }, pool: undefined }));
    expect(out.dependencies).toEqual([
      { name: DEP.poolSlots, reason: expect.stringContaining("Pool 'db' does not exist") },
    ]);
  });

  it("says when an up_for_reschedule sensor is poked again (its reschedule date)", () => {
    const at = new Date("2024-05-01T12:05:00Z");
    const waiting = explainDependencies(facts({ ti: { state: "up_for_reschedule", next_retry_at: at } }));
    expect(waiting.dependencies[0]?.reason).toContain(
      "waiting to be rescheduled at 2024-05-01T12:05:00.000Z",
    );
    const due = explainDependencies(
      facts({ ti: { state: "up_for_reschedule", next_retry_at: new Date("2024-05-01T11:59:00Z") } }),
    );
    expect(due.dependencies[0]?.reason).toContain("has come");
  });

  it("gives the retry time of an up_for_retry instance, from next_retry_at or the retry delay", () => {
    const at = new Date(NOW.getTime() + 60_000);
    const stored = explainDependencies(
      facts({ ti: { task_id: "flaky", state: "up_for_retry", try_number: 1, next_retry_at: at } }),
    );
    expect(stored.dependencies[0]?.name).toBe(DEP.notInRetryPeriod);
    expect(stored.dependencies[0]?.reason).toContain(at.toISOString());
    // Without next_retry_at: the end of the try plus the task's retry delay (5 minutes).
    const ended = new Date(NOW.getTime() - 60_000);
    const computed = explainDependencies(
      facts({ ti: { task_id: "flaky", state: "up_for_retry", try_number: 1, end_date: ended } }),
    );
    const expected = new Date(
      ended.getTime() +
        nextRetryDelayMs({
          retryDelayMs: 300_000,
          exponentialBackoff: false,
          tryNumber: 1,
          dagId: "etl",
          taskId: "flaky",
          logicalDate: null,
        }),
    );
    expect(computed.dependencies[0]?.reason).toContain(expected.toISOString());
    const due = explainDependencies(
      facts({
        ti: {
          task_id: "flaky",
          state: "up_for_retry",
          try_number: 1,
          next_retry_at: new Date(NOW.getTime() - 1),
        },
      }),
    );
    expect(due.dependencies).toEqual([]);
    expect(due.message).toContain("retry is due");
  });

  it("explains a run that is not running, and a paused DAG's queued run", () => {
    const queued = explainDependencies(
      facts({ dagPaused: true, run: { state: "queued", run_type: "manual", logical_date: null } }),
    );
    expect(queued.dependencies.map((d) => d.name)).toEqual([DEP.dagrunRunning, DEP.dagNotPaused]);
    expect(queued.dependencies[1]?.reason).toBe(
      "Task's DAG 'etl' is paused: its queued runs start only once it is unpaused.",
    );
    // A paused DAG's running run goes on; a backfill's queued run starts anyway.
    expect(explainDependencies(facts({ dagPaused: true })).dependencies).toEqual([]);
    const backfill = explainDependencies(
      facts({ dagPaused: true, run: { state: "queued", run_type: "backfill", logical_date: null } }),
    );
    expect(backfill.dependencies.map((d) => d.name)).toEqual([DEP.dagrunRunning]);
    const over = explainDependencies(
      facts({ run: { state: "failed", run_type: "manual", logical_date: null } }),
    );
    expect(over.dependencies[0]?.reason).toContain("'failed' state");
  });

  it("shows the previous run's hold without repeating the dependency name", () => {
    const out = explainDependencies(
      facts({
        past: "Previous Dagrun State: dependsOnPast is set for this task, but 1 of its instance(s) …",
      }),
    );
    expect(out.dependencies).toEqual([
      { name: DEP.previousDagrun, reason: "dependsOnPast is set for this task, but 1 of its instance(s) …" },
    ]);
  });

  it("speaks of the instance's own state when that is what keeps it from running", () => {
    const running = explainDependencies(facts({ ti: { state: "running" } }));
    expect(running).toEqual({
      dependencies: [],
      message: "Task is in the 'running' state: it is running now.",
    });
    for (const state of ["success", "failed", "skipped"] as const) {
      const out = explainDependencies(facts({ ti: { state } }));
      expect(out.dependencies).toEqual([
        { name: DEP.taskInstanceState, reason: expect.stringContaining(`'${state}' state`) },
      ]);
    }
    expect(explainDependencies(facts({ ti: { state: "queued" } })).dependencies).toEqual([]);
    const gone = explainDependencies(facts({ ti: { task_id: "gone" } }));
    expect(gone.dependencies[0]?.reason).toContain('no longer has task "gone"');
    const unparsed = explainDependencies(facts({ plan: undefined }));
    expect(unparsed.dependencies[0]?.reason).toContain("has no serialized form");
  });
});

describe("explainDependencies: the QueueExecutor's workers", () => {
  const workers = (
    live: { hostname: string; queues: string[]; draining?: boolean }[],
    unreachable: string | null = null,
  ) => ({
    queue: "gpu",
    live: live.map((w) => ({ ...w, draining: w.draining ?? false })),
    unreachable,
    staleAfterS: 30,
  });

  it("says which queues the live workers serve when none takes the task's, queued or scheduled", () => {
    const queued = explainDependencies(
      facts({ ti: { state: "queued" }, workers: workers([{ hostname: "a", queues: ["default"] }]) }),
    );
    expect(queued.dependencies).toEqual([
      {
        name: DEP.workerServingQueue,
        reason:
          "No worker serves queue gpu: the live worker serves default. Start one with `updraft worker --queues gpu`.",
      },
    ]);
    const scheduled = explainDependencies(
      facts({
        ti: { state: "scheduled" },
        workers: workers([
          { hostname: "a", queues: ["default"] },
          { hostname: "b", queues: ["etl", "default"] },
          { hostname: "c", queues: ["gpu"], draining: true },
        ]),
      }),
    );
    expect(scheduled.dependencies.map((d) => d.reason)).toEqual([
      "No worker serves queue gpu: the 2 live workers serve default, etl (1 draining worker serves it but takes no new work). Start one with `updraft worker --queues gpu`.",
    ]);
  });

  it("says when every live worker is draining, when none is alive, and when Redis cannot be read", () => {
    const draining = explainDependencies(
      facts({
        ti: { state: "queued" },
        workers: workers([{ hostname: "a", queues: ["gpu"], draining: true }]),
      }),
    );
    expect(draining.dependencies[0]?.reason).toContain("the live worker is draining and takes no new work");
    const none = explainDependencies(facts({ ti: { state: "queued" }, workers: workers([]) }));
    expect(none.dependencies[0]?.reason).toBe(
      "No worker is alive to serve queue gpu (none has heartbeated in the last 30 s). Start one with `updraft worker --queues gpu`.",
    );
    const down = explainDependencies(
      facts({ ti: { state: "queued" }, workers: workers([], "Redis at redis://x is unreachable.") }),
    );
    expect(down.dependencies[0]?.reason).toBe(
      "Cannot tell whether a worker serves queue gpu: Redis at redis://x is unreachable.",
    );
  });

  it("adds nothing when a live worker takes the queue", () => {
    const ok = explainDependencies(
      facts({ ti: { state: "queued" }, workers: workers([{ hostname: "a", queues: ["default", "gpu"] }]) }),
    );
    expect(ok.dependencies).toEqual([]);
    expect(ok.message).toContain("'queued' state");
  });
});
