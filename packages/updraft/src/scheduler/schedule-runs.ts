// Dependency evaluation for running DAG runs, in one transaction per batch of runs: lock the
// runs (FOR NO KEY UPDATE SKIP LOCKED, so two schedulers never evaluate the same run at once; a
// weaker lock than FOR UPDATE, which the key-share locks of a finish's history insert would
// block), read every task instance of each (or of the tasks asked about) in one statement, decide
// in memory (evaluate-run.ts), write all decisions of the batch in one guarded statement, and
// finish the runs that are over.
import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { DagPlan } from "../model/dag-plan.js";
import {
  emptyEvaluation,
  evaluateRun,
  evaluateTasks,
  type RunEvaluation,
  type TiSnapshot,
} from "../model/evaluate-run.js";
import {
  endTries,
  loadDag,
  pastBlocks,
  pauseAfterFailedRuns,
  writeDecisions,
  type TryEnd,
} from "../services/index.js";
import { runKey, type SchedulerContext } from "./context.js";
import {
  readRuns,
  scopeOf,
  stillRunning,
  xcomLengths,
  type RunRef,
  type RunRow,
  type Target,
  type TiTuple,
} from "./read-runs.js";

export type { RunRef } from "./read-runs.js";

export interface FinishedRun extends RunRef {
  state: "success" | "failed";
  plan: DagPlan | undefined;
  /** Milliseconds from the run's start to its end (dagrun.duration.<state>), null if it never started. */
  durationMs: number | null;
  /** The run's last finished task instance (DAG callbacks run in its name). */
  lastTi: { task_id: string; map_index: number; try_number: number } | null;
}

export interface ScheduleResult {
  /** Task instances that became scheduled (or were created scheduled by an expansion). */
  scheduled: number;
  finished: FinishedRun[];
  /** Runs asked for that another scheduler (or a finishing try) held locked: try again shortly. */
  busy: RunRef[];
  evaluated: number;
  /**
   * DAGs where a task that depends_on_past tasks of later runs wait on (DagPlan.pastWatched) was
   * decided finished here: their other running runs need evaluating again.
   */
  pastChanged: Set<string>;
}

interface Evaluated {
  row: RunRow;
  plan: DagPlan;
  ev: RunEvaluation;
}

/**
 * Evaluates the given running runs, or (with `runs` undefined) every running run, `batchSize`
 * runs per transaction.
 */
export async function scheduleRuns(
  ctx: SchedulerContext,
  runs: readonly RunRef[] | undefined,
  batchSize = 50,
): Promise<ScheduleResult> {
  const total: ScheduleResult = {
    scheduled: 0,
    finished: [],
    busy: [],
    evaluated: 0,
    pastChanged: new Set(),
  };
  if (runs !== undefined) {
    // A scoped evaluation that cannot decide alone (a cascade, the run may be over) becomes a
    // whole-run evaluation in the same pass.
    let pending = [...runs];
    while (pending.length > 0) {
      const escalated: RunRef[] = [];
      for (let i = 0; i < pending.length; i += batchSize) {
        const batch = pending.slice(i, i + batchSize);
        await ctx.db
          .transaction()
          .execute((trx) => evaluateBatch(ctx, trx, { runs: batch }, total, escalated));
      }
      pending = escalated;
    }
    return total;
  }
  let afterId = 0;
  for (;;) {
    const last = await ctx.db
      .transaction()
      .execute((trx) => evaluateBatch(ctx, trx, { afterId, limit: batchSize }, total));
    if (last === null) return total;
    afterId = last;
  }
}

/**
 * One batch in the caller's transaction: lock and read the runs, decide in memory, write the
 * decisions, end the runs that are over. Returns the last run id read (for paging), or null.
 */
async function evaluateBatch(
  ctx: SchedulerContext,
  trx: Db,
  target: Target,
  total: ScheduleResult,
  escalated: RunRef[] = [],
): Promise<number | null> {
  const rows = await readRuns(trx, target);
  if ("runs" in target && rows.length < target.runs.length) {
    const seen = new Set(rows.map((r) => runKey(r.dag_id, r.run_id)));
    const missing = target.runs.filter((r) => !seen.has(runKey(r.dagId, r.runId)));
    total.busy.push(...(await stillRunning(trx, missing)));
  }
  if (rows.length === 0) return null;
  await ctx.hooks.afterRunsRead?.({ runs: rows.map((r) => ({ dagId: r.dag_id, runId: r.run_id })) });

  const evaluations = await evaluate(trx, rows, escalated);
  total.evaluated += evaluations.length;
  const applied = await writeDecisions(
    trx,
    evaluations.map(({ row, plan, ev }) => ({ dag_id: row.dag_id, run_id: row.run_id, plan, ...ev })),
  );
  const stopped = await stopRunning(trx, evaluations);
  // A run is finished only if every decision of its evaluation applied.
  const settled = evaluations.filter(
    ({ row, ev }) =>
      (applied.get(runKey(row.dag_id, row.run_id)) ?? 0) ===
        ev.changes.length + ev.expansions.length + ev.creations.length &&
      (stopped.get(runKey(row.dag_id, row.run_id)) ?? 0) === ev.stops.length,
  );
  await writeWaits(trx, evaluations);
  for (const { row, ev, plan } of settled) {
    total.scheduled += ev.scheduled;
    if (
      plan.pastWatched.size > 0 &&
      (ev.outcome !== "running" ||
        ev.changes.some((c) => plan.pastWatched.has(c.task_id) && c.to !== "scheduled"))
    )
      total.pastChanged.add(row.dag_id);
    if (ev.deadlock)
      ctx.logger.warn(
        { dag_id: row.dag_id, run_id: row.run_id },
        "Deadlock: no task instance of the run can run any more; marking the run failed",
      );
  }
  const ended = await endRuns(
    trx,
    settled.filter((e) => e.ev.outcome !== "running"),
  );
  total.finished.push(...ended);
  await pauseFailing(ctx, trx, ended);
  await recordDagHash(trx, evaluations);
  return "afterId" in target ? Math.max(...rows.map((r) => r.id)) : 0;
}

/**
 * The pure evaluation of each run, with the XCom list lengths mapped tasks need read on demand. A
 * scoped run whose decisions could cascade or end it goes to `escalated` (a whole-run evaluation).
 */
async function evaluate(trx: Db, rows: readonly RunRow[], escalated: RunRef[]): Promise<Evaluated[]> {
  const out: Evaluated[] = [];
  for (const row of rows) {
    const plan = row.dag_hash === null ? undefined : await loadDag(trx, row.dag_id, row.dag_hash);
    if (plan === undefined) continue; // The DAG is gone: leave the run to be cleaned up by hand.
    const tis: TiSnapshot[] = row.tis.map(([task_id, map_index, state, due]) => ({
      task_id,
      map_index,
      state,
      retry_due: due === true,
    }));
    const past =
      plan.pastTasks.length === 0 ? undefined : await pastBlocks(trx, plan, row.dag_id, row.run_id, tis);
    if (row.scope !== null) {
      const read = new Set(row.read_ids ?? []);
      const complete = scopeOf(plan, row.scope).every((id) => read.has(id));
      const scoped = evaluateTasks(plan, tis, row.scope, past);
      if (!complete || scoped.incomplete || scoped.changes.some((c) => c.to !== "scheduled")) {
        escalated.push({ dagId: row.dag_id, runId: row.run_id });
        continue;
      }
      out.push({
        row,
        plan,
        ev: {
          ...emptyEvaluation(),
          changes: scoped.changes,
          scheduled: scoped.scheduled,
          waits: scoped.waits,
        },
      });
      continue;
    }
    let ev = evaluateRun(plan, tis, new Map(), past);
    if (ev.needLengths.length > 0) {
      ev = evaluateRun(plan, tis, await xcomLengths(trx, row.dag_id, row.run_id, ev.needLengths), past);
    }
    out.push({ row, plan, ev });
  }
  return out;
}

/**
 * Records why undecided instances wait on the previous run (task_instance.wait_reason, shown by
 * the REST API), only where it changed; any later state change clears it (write-decisions.ts).
 */
async function writeWaits(trx: Db, evaluations: readonly Evaluated[]): Promise<void> {
  const rows = evaluations.flatMap(({ row, ev }) =>
    ev.waits.map((w) => ({ dag_id: row.dag_id, run_id: row.run_id, ...w })),
  );
  if (rows.length === 0) return;
  await sql`
    update task_instance t set wait_reason = w.reason, updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      as w(dag_id text, run_id text, task_id text, map_index int, reason text)
    where t.dag_id = w.dag_id and t.run_id = w.run_id and t.task_id = w.task_id and t.map_index = w.map_index
      and t.state is null and t.wait_reason is distinct from w.reason`.execute(trx);
}

/**
 * Fails the running tries a fail_stop evaluation stops (airflow/models/taskinstance.py
 * _stop_remaining_tasks: ti.error), with the reason in their history; their runners learn it at
 * their next heartbeat (409) and stop. Returns how many ended per run.
 */
async function stopRunning(trx: Db, evaluations: readonly Evaluated[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const tries: TryEnd[] = [];
  for (const { row, ev } of evaluations) {
    for (const s of ev.stops) {
      const t = row.tis.find(([id, mi]) => id === s.task_id && mi === s.map_index);
      if (t === undefined) continue;
      tries.push({
        dag_id: row.dag_id,
        run_id: row.run_id,
        task_id: s.task_id,
        map_index: s.map_index,
        try_number: t[4],
        state: "failed",
        retryable: false,
        delay_s: 0,
        retry_as: "up_for_retry",
        new_try: false,
        error: "Failed by the DAG's failStop: another task instance of the run failed.",
      });
    }
  }
  if (tries.length === 0) return out;
  for (const e of await endTries(trx, tries, sql`t.state = 'running'`)) {
    const k = runKey(e.dag_id, e.run_id);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** running → success/failed for the runs whose evaluation says they are over. */
async function endRuns(trx: Db, over: readonly Evaluated[]): Promise<FinishedRun[]> {
  if (over.length === 0) return [];
  const ending = over.map(({ row, ev }) => ({ dag_id: row.dag_id, run_id: row.run_id, state: ev.outcome }));
  const done = await sql<{
    dag_id: string;
    run_id: string;
    state: "success" | "failed";
    duration_ms: number | null;
  }>`
    update dag_run d set state = u.state, end_date = now(), updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(ending)}::jsonb) as u(dag_id text, run_id text, state text)
    where d.dag_id = u.dag_id and d.run_id = u.run_id and d.state = 'running'
    returning d.dag_id, d.run_id, d.state,
      (extract(epoch from (d.end_date - d.start_date)) * 1000)::float8 as duration_ms,
      set_config('synchronous_commit', 'on', true) as sync -- a run's end (and its callbacks) is durable`.execute(
    trx,
  );
  return done.rows.map((r) => {
    const e = over.find((x) => x.row.dag_id === r.dag_id && x.row.run_id === r.run_id);
    return {
      dagId: r.dag_id,
      runId: r.run_id,
      state: r.state,
      durationMs: r.duration_ms,
      plan: e?.plan,
      lastTi: e === undefined ? null : lastFinished(e.row.tis),
    };
  });
}

/**
 * airflow/models/dagrun.py DagRun.update_state: a run that ends failed pauses its DAG when the
 * DAG's last max_consecutive_failed_dag_runs runs all failed (_check_last_n_dagruns_failed).
 */
async function pauseFailing(ctx: SchedulerContext, trx: Db, ended: readonly FinishedRun[]): Promise<void> {
  for (const f of ended) {
    if (f.state !== "failed") continue;
    const n =
      f.plan?.dag.max_consecutive_failed_dag_runs ?? ctx.config.core.max_consecutive_failed_dag_runs_per_dag;
    if (n > 0 && (await pauseAfterFailedRuns(trx, f.dagId, n)))
      ctx.logger.warn(
        { dag_id: f.dagId, run_id: f.runId, max_consecutive_failed_dag_runs: n },
        `Paused DAG ${f.dagId}: its last ${n} DAG runs failed`,
      );
  }
}

/** A run evaluated with a newer version of its DAG records that version. */
async function recordDagHash(trx: Db, evaluations: readonly Evaluated[]): Promise<void> {
  const rehash = evaluations.filter((e) => e.row.run_hash !== e.plan.hash);
  if (rehash.length === 0) return;
  const pairs = rehash.map((e) => ({ dag_id: e.row.dag_id, run_id: e.row.run_id, hash: e.plan.hash }));
  await sql`
    update dag_run d set dag_hash = u.hash
    from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as u(dag_id text, run_id text, hash text)
    where d.dag_id = u.dag_id and d.run_id = u.run_id`.execute(trx);
}

function lastFinished(tis: readonly TiTuple[]): FinishedRun["lastTi"] {
  let best: TiTuple | undefined;
  for (const t of tis) {
    if (t[5] === null) continue;
    if (best === undefined || (best[5] ?? "") < t[5]) best = t;
  }
  best ??= tis[0];
  return best === undefined ? null : { task_id: best[0], map_index: best[1], try_number: best[4] };
}
