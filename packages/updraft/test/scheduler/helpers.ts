// Shared by the scheduler tests: DAGs built with the real SDK and serializer, a configuration,
// and a test executor that stands in for the real runner by calling the execution API's own
// services (start: queued → running; finish: running → success / up_for_retry / failed, with the
// history row and branch skips), exactly the guarded updates the API server makes.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { loadConfig, type UpdraftConfig } from "../../src/config/index.js";
import type { Database } from "../../src/db/index.js";
import type { EngineEvents } from "../../src/events/engine-events.js";
import type { Executor, ExecutorListener, StopResult } from "../../src/executors/executor.js";
import { ExecutorSet } from "../../src/executors/executor-set.js";
import type {
  FinishRequest,
  TaskInstanceKey,
  TaskWorkload,
  Workload,
} from "../../src/model/execution-api.js";
import { serializeDag, timetableSummary } from "../../src/model/serialize-dag.js";
import { Scheduler, type SchedulerHooks } from "../../src/scheduler/index.js";
import type { Dag } from "../../src/sdk/index.js";
import { finishTaskInstance, startTaskInstance, syncDagBag } from "../../src/services/index.js";

export const SECRET = "scheduler-test-secret-0123456789";

export function testConfig(overrides: Record<string, unknown> = {}): UpdraftConfig {
  const home = mkdtempSync(join(tmpdir(), "updraft-sched-test-"));
  return loadConfig({
    home,
    env: {},
    overrides: {
      "scheduler.scheduler_heartbeat_sec": 1,
      "scheduler.task_instance_heartbeat_timeout": 2,
      ...overrides,
    },
  });
}

/** Serializes an SDK DAG and writes it as the DAG processor does (unpaused, next run computed). */
export async function saveSdkDag(database: Database, d: Dag): Promise<void> {
  const serialized = serializeDag(d, `/dags/${d.dagId}.ts`, timetableSummary(d));
  const result = await syncDagBag(
    database.db,
    { upsertedDags: [serialized], removedDagIds: [], importErrorChanges: [] },
    { pausedAtCreation: false },
  );
  if (result.scheduleProblems.length > 0) throw new Error(JSON.stringify(result.scheduleProblems));
}

export type Decide = (w: TaskWorkload) => FinishRequest | Promise<FinishRequest>;

/**
 * An executor for tests. Workloads wait in `pending` until the test runs them with `runAll`, which
 * starts and finishes each through the execution API's services (standing in for a runner).
 */
export class TestExecutor implements Executor {
  readonly pending: Workload[] = [];
  readonly callbacks: Workload[] = [];
  readonly all: Workload[] = [];
  private readonly listeners = new Set<ExecutorListener>();
  running = 0;

  constructor(
    private readonly database: Database,
    public slots = 1000,
    private readonly events: EngineEvents | null = null,
    /** Its core.executor name, when a test runs several (decision 0027). */
    readonly name = "test",
  ) {}

  async start(): Promise<void> {}
  queueWorkload(w: Workload): void {
    this.all.push(w);
    if (w.kind === "callback") this.callbacks.push(w);
    else this.pending.push(w);
  }
  openSlots(): number {
    return Math.max(0, this.slots - this.pending.length - this.running);
  }
  onEvent(listener: ExecutorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async stop(): Promise<StopResult> {
    return { notStarted: this.pending.splice(0) };
  }

  /** Starts every pending workload (queued → running); returns them. */
  async startAll(): Promise<TaskWorkload[]> {
    const started: TaskWorkload[] = [];
    for (const w of this.pending.splice(0)) {
      if (w.kind !== "task") continue;
      await startTaskInstance(this.database.db, claims(w), { hostname: "test", pid: 1 });
      this.running++;
      started.push(w);
    }
    return started;
  }

  /** Reports a started workload's runner dead, as an executor does (the scheduler reaps the try). */
  lose(w: TaskWorkload, reason: string): void {
    this.running--;
    for (const l of this.listeners)
      l({ type: "lost", kind: "task", ti: w.ti, try_number: w.try_number, reason });
  }

  /** Finishes a started workload as its runner would. */
  async finish(w: TaskWorkload, req: FinishRequest = { state: "success" }): Promise<string> {
    const r = await finishTaskInstance(this.database.db, claims(w), req, { events: this.events });
    this.running--;
    for (const l of this.listeners) {
      l({
        type: "finished",
        kind: "task",
        ti: w.ti,
        try_number: w.try_number,
        state: r.state,
        runner_ms: 0,
        next: null,
      });
    }
    return r.state;
  }

  /** Starts and finishes every pending workload, deciding each one's report. */
  async runAll(decide: Decide = () => ({ state: "success" })): Promise<number> {
    const started = await this.startAll();
    for (const w of started) await this.finish(w, await decide(w));
    return started.length;
  }
}

function claims(w: TaskWorkload) {
  return {
    ti: w.ti,
    try_number: w.try_number,
    exp: Math.floor(Date.now() / 1000) + 3600,
    scope: "task" as const,
  };
}

export function newScheduler(
  database: Database,
  config: UpdraftConfig,
  executor: Executor | ExecutorSet,
  o: { hooks?: SchedulerHooks; events?: EngineEvents | null; staleJobAfterS?: number } = {},
): Scheduler {
  return new Scheduler({
    database,
    config,
    ...(executor instanceof ExecutorSet ? { executors: executor } : { executor }),
    events: o.events ?? null,
    apiUrl: "http://127.0.0.1:1",
    secretKey: SECRET,
    ...(o.hooks === undefined ? {} : { hooks: o.hooks }),
    ...(o.staleJobAfterS === undefined ? {} : { staleJobAfterS: o.staleJobAfterS }),
  });
}

/** Passes and runs workloads until the run is finished (or `maxRounds`); returns the run's state. */
export async function drive(
  database: Database,
  scheduler: Scheduler,
  executor: TestExecutor,
  run: { dagId: string; runId: string },
  decide?: Decide,
  o: { maxRounds?: number; afterPass?: () => Promise<void> } = {},
): Promise<string> {
  for (let i = 0; i < (o.maxRounds ?? 50); i++) {
    await scheduler.runOnce();
    await o.afterPass?.();
    const state = await runState(database, run);
    if (state === "success" || state === "failed") return state;
    await executor.runAll(decide);
  }
  return runState(database, run);
}

export async function runState(database: Database, run: { dagId: string; runId: string }): Promise<string> {
  const row = await database.db
    .selectFrom("dag_run")
    .select("state")
    .where("dag_id", "=", run.dagId)
    .where("run_id", "=", run.runId)
    .executeTakeFirstOrThrow();
  return row.state;
}

export async function tiStates(
  database: Database,
  run: { dagId: string; runId: string },
): Promise<Record<string, string | null>> {
  const rows = await database.db
    .selectFrom("task_instance")
    .select(["task_id", "map_index", "state"])
    .where("dag_id", "=", run.dagId)
    .where("run_id", "=", run.runId)
    .execute();
  const out: Record<string, string | null> = {};
  for (const r of rows) out[r.map_index >= 0 ? `${r.task_id}[${r.map_index}]` : r.task_id] = r.state;
  return out;
}

export async function poolUse(database: Database, pool: string): Promise<number> {
  const r = await sql<{ n: number }>`
    select coalesce(sum(pool_slots), 0)::int as n from task_instance
    where pool = ${pool} and state in ('queued', 'running')`.execute(database.db);
  return r.rows[0]?.n ?? 0;
}

export const tiKey = (dagId: string, runId: string, taskId: string, mapIndex = -1): TaskInstanceKey => ({
  dag_id: dagId,
  run_id: runId,
  task_id: taskId,
  map_index: mapIndex,
});
