// The end of a try as its runner reports it, and what follows at once (decision 0011), in ONE
// statement: the guarded end of exactly that try with its history row, its return value as XCom, a
// branch's skips, the downstream tasks that wait on this task alone made ready (a chain, a
// fan-out: model/evaluate-run.ts decides, before the statement, from this try's success), and the
// next try handed to the same runner (services/hand-over.ts). What depends on other tasks' ends too
// — a join, a failure's or a skip's cascade, a retry, the end of the run — is the scheduler's,
// told by an event: deciding it here would need the run locked against a concurrent end.
// Its parts: finish-xcoms.ts, branch-skips.ts, predict-downstream.ts, finish-statement.ts (with
// outlet-events.ts, finish-wake.ts, hand-over.ts, end-try.ts, write-decisions.ts), finish-outcome.ts.
import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import type { FinishRequest, TokenClaims } from "../model/execution-api.js";
import type { TaskInstanceState } from "../model/states.js";
import { branchSkips } from "./branch-skips.js";
import { loadDag, peekDag } from "./dag-cache.js";
import { retryDelaySeconds, type TryEnd } from "./end-try.js";
import type { FinishInput, FinishOptions, FinishOutcome, FinishResult } from "./finish-input.js";
import { done, finished } from "./finish-outcome.js";
import { runStatement } from "./finish-statement.js";
import { recheckRunEnd, wakeEvent } from "./finish-wake.js";
import { finishXcoms } from "./finish-xcoms.js";
import { predictDownstream } from "./predict-downstream.js";
import { tiConflict, updateRunningTry } from "./ti-conflict.js";
import { emitTiEnd, emitTiStart } from "./ti-metrics.js";

export type { FinishOptions, FinishResult } from "./finish-input.js";

const DEFAULT_XCOM_MAX_SIZE = 1024 * 1024;

/**
 * Records the end of the token's try. The server decides between up_for_retry and failed: a
 * failed try with retries left (`try_number <= max_tries`, Airflow's rule) and no `no_retry` is retried after the
 * task's retry delay. A duplicate or late report is TI_CONFLICT (409) and changes nothing. Only a
 * branch task may name the tasks to follow, only a short-circuit may skip its downstream.
 */
export async function finishTaskInstance(
  db: Executor,
  claims: TokenClaims,
  req: FinishRequest,
  options: FinishOptions = {},
): Promise<FinishResult> {
  const { ti } = claims;
  const maxSize = options.xcomMaxSize ?? DEFAULT_XCOM_MAX_SIZE;
  const xcom = finishXcoms(claims, req, maxSize);
  if (typeof req.rendered_map_index === "string") {
    // Guarded like the end itself: a late report changes nothing (TI_CONFLICT).
    await updateRunningTry(db, claims, { rendered_map_index: req.rendered_map_index });
  }
  let plan = peekDag(ti.dag_id) ?? (await loadDag(db, ti.dag_id));
  // The decisions depend on the DAG; the end only applies if the stored DAG is still the one they
  // were made with, else the DAG is read again and everything redone (a DAG change is rare).
  for (let attempt = 0; ; attempt++) {
    const input: FinishInput = { claims, req, plan, xcom, skips: branchSkips(plan, claims, req), options };
    const outcome = await finishAtOnce(db, input);
    if (outcome.kind === "done") {
      if (outcome.wake !== null) {
        if (outcome.notified) options.events?.emitLocal(outcome.wake);
        else options.events?.emit(outcome.wake);
      }
      if (outcome.tail && options.events) {
        const over = await recheckRunEnd(db, claims, outcome.result.state);
        if (over !== null) options.events.emit(over);
      }
      return outcome.result;
    }
    if (outcome.storedHash === (plan?.hash ?? null) || attempt >= 3)
      throw await tiConflict(db, claims, "running");
    plan = outcome.storedHash === null ? undefined : await loadDag(db, ti.dag_id, outcome.storedHash);
  }
}

function endOf(input: FinishInput, logicalDate: Date | null): TryEnd {
  const { claims, req, plan } = input;
  return {
    ...claims.ti,
    try_number: claims.try_number,
    state: req.state,
    retryable: req.state === "failed" && req.no_retry !== true,
    delay_s: req.state === "failed" ? retryDelaySeconds(plan, claims.ti, claims.try_number, logicalDate) : 0,
    retry_as: "up_for_retry",
    new_try: false,
    error: req.error ?? null,
  };
}

/** The run's logical date, for a failed try whose retry delay backs off exponentially (its jitter's seed). */
async function backoffDate(db: Executor, input: FinishInput): Promise<Date | null> {
  const { claims, req, plan } = input;
  if (req.state !== "failed" || plan?.task(claims.ti.task_id)?.retry_exponential_backoff !== true)
    return null;
  const r = await sql<{ logical_date: Date | null }>`
    select logical_date from dag_run where dag_id = ${claims.ti.dag_id} and run_id = ${claims.ti.run_id}`.execute(
    db,
  );
  return r.rows[0]?.logical_date ?? null;
}

/** The statement: end, XCom, skips, the downstream decisions, the next try, the wake-up. */
async function finishAtOnce(db: Executor, input: FinishInput): Promise<FinishOutcome> {
  const { claims, plan, skips } = input;
  const predicted = predictDownstream(input);
  const end = endOf(input, await backoffDate(db, input));
  const row = await runStatement(db, input, {
    end,
    skips,
    decisions: predicted.decisions,
    pending: predicted.pending,
    forceRunCheck: predicted.runCheck,
  });
  if (row === undefined || row.state === null) return { kind: "refused", storedHash: row?.dag_hash ?? null };
  const state = row.state as TaskInstanceState;
  const skipped = row.skipped?.length ?? 0;
  emitTiEnd(input.options.metrics, {
    dag_id: claims.ti.dag_id,
    task_id: claims.ti.task_id,
    state,
    durationS: row.duration,
    queuedS: row.queued_s,
  });
  if (input.options.traces?.enabled === true) {
    const endAt = new Date();
    input.options.traces.tryEnded({
      ...claims.ti,
      try_number: claims.try_number,
      state,
      start: row.duration === null ? null : new Date(endAt.getTime() - row.duration * 1000),
      end: endAt,
    });
  }
  if (typeof row.next_task_id === "string")
    emitTiStart(input.options.metrics, claims.ti.dag_id, row.next_task_id);
  if (plan === undefined) return done(state, skipped, null, wakeEvent(claims, state, 0, true), false);
  return finished(db, input, state, skipped, row, predicted.pending);
}
