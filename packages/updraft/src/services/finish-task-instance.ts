// The end of a try as its runner reports it, and what follows at once (decision 0011), in ONE
// statement: the guarded end of exactly that try with its history row, its return value as XCom, a
// branch's skips, the downstream tasks that wait on this task alone made ready (a chain, a
// fan-out: model/evaluate-run.ts decides, before the statement, from this try's success), and the
// next try handed to the same runner (services/hand-over.ts). What depends on other tasks' ends too
// — a join, a failure's or a skip's cascade, a retry, the end of the run — is the scheduler's,
// told by an event: deciding it here would need the run locked against a concurrent end.
import { sql, type RawBuilder } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { rowsSql, type Executor, type JsonValue, type RowColumn } from "../db/index.js";
import type { EngineEvent, EngineEvents } from "../events/engine-events.js";
import type { DagPlan } from "../model/dag-plan.js";
import { evaluateTasks, type TiChange, type TiSnapshot } from "../model/evaluate-run.js";
import type {
  FinishRequest,
  FinishResponse,
  StartResponse,
  TaskWorkload,
  TokenClaims,
} from "../model/execution-api.js";
import { UNFINISHED_TI_STATES, type TaskInstanceState } from "../model/states.js";
import { loadDag, peekDag } from "./dag-cache.js";
import { endTriesCtes, retryDelaySeconds, type TryEnd } from "./end-try.js";
import { crossRun, handOverCtes, notHandedOver } from "./hand-over.js";
import { runContextColumns, startResponse, xcomSubquery, type StartRow } from "./start-context.js";
import { xcomJson } from "./task-xcom.js";
import type { Traces } from "../traces/index.js";
import { emitTiEnd, emitTiStart } from "./ti-metrics.js";
import type { Metrics } from "../metrics/index.js";
import { tiConflict, updateRunningTry } from "./ti-conflict.js";
import { taskWorkload, type WorkloadSigner } from "./workloads.js";
import { decisionCtes } from "./write-decisions.js";

export interface FinishOptions {
  /** Told `ti_finished` (after the commit) when the scheduler has something to do. */
  events?: EngineEvents | null;
  /** Largest return value a finish may carry, in JSON bytes (core.xcom_max_size). Default 1 MiB. */
  xcomMaxSize?: number;
  /**
   * Signs the workload of a try handed to the runner; without it no try is handed over.
   * maxActiveTasksPerDag (core.max_active_tasks_per_dag) says whether it may cross runs (hand-over.ts).
   */
  handOver?: { signer: WorkloadSigner; heartbeatIntervalS: number; maxActiveTasksPerDag: number } | null;
  /** Where ti_successes, ti_failures, ti.finish, task.duration go (never awaited). */
  metrics?: Metrics;
  /** Where the ended try's span goes (OpenTelemetry, never awaited). */
  traces?: Traces;
}

export interface FinishResult extends FinishResponse {
  /** Downstream task instances skipped by a branch or short-circuit. */
  skipped: number;
  next: { workload: TaskWorkload; start: StartResponse } | null;
}

type TiFinished = Extract<EngineEvent, { type: "ti_finished" }>;

const DEFAULT_XCOM_MAX_SIZE = 1024 * 1024;
const DEC_COLUMNS: readonly RowColumn[] = [
  ["task_id", "text"],
  ["map_index", "int"],
  ["from_state", "text"],
  ["to_state", "text"],
  ["pos", "int"],
];
const UNFINISHED_SQL = sql.raw(
  UNFINISHED_TI_STATES.filter((s) => s !== null)
    .map((s) => `'${s}'`)
    .join(","),
);
const SKIPPABLE = JSON.stringify(UNFINISHED_TI_STATES.filter((s) => s !== null));

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

interface FinishInput {
  claims: TokenClaims;
  req: FinishRequest;
  plan: DagPlan | undefined;
  xcom: XComRows | null;
  skips: readonly string[];
  options: FinishOptions;
}

type FinishOutcome =
  | { kind: "done"; result: FinishResult; wake: TiFinished | null; notified: boolean; tail: boolean }
  | { kind: "refused"; storedHash: string | null };

/** A decision with the downstream task's topological position (the tie-break of claim order). */
type Decision = TiChange & { pos: number };

/**
 * The downstream tasks a branch or short-circuit skips. A follow_task_ids or skip_downstream from
 * any other task, or naming tasks the DAG does not have, is refused; only the task's direct
 * downstream tasks (or, for a short-circuit, what lies downstream of it) can be skipped: a task's
 * token must not be able to skip work it does not decide.
 */
function branchSkips(plan: DagPlan | undefined, claims: TokenClaims, req: FinishRequest): string[] {
  const follow = req.follow_task_ids ?? null;
  const skipAll = req.skip_downstream === true;
  if (follow === null && !skipAll) return [];
  if (follow !== null && skipAll) {
    throw new UpdraftError(
      "REQUEST_INVALID",
      "A finish report gives follow_task_ids or skip_downstream, not both.",
    );
  }
  const task = plan?.task(claims.ti.task_id);
  const kind = follow !== null ? "branch" : "short_circuit";
  if (task?.branch_kind !== kind) {
    throw new UpdraftError(
      "FORBIDDEN",
      kind === "branch"
        ? `Task "${claims.ti.task_id}" is not a branch task: it may not name the tasks to follow (follow_task_ids).`
        : `Task "${claims.ti.task_id}" is not a short-circuit task: it may not skip its downstream tasks (skip_downstream).`,
    );
  }
  if (req.state !== "success" || plan === undefined) return [];
  if (skipAll) {
    // airflow/operators/python.py ShortCircuitOperator.execute: every task downstream, or with
    // ignore_downstream_trigger_rules false the direct downstream only; never a teardown.
    const ids = task.ignore_downstream_trigger_rules
      ? plan.allDownstream(task.task_id)
      : task.downstream_task_ids;
    return ids.filter((id) => plan.task(id)?.is_teardown !== true);
  }
  // airflow/models/skipmixin.py SkipMixin.skip_all_except: any task of the DAG may be followed
  // (the runner turned group ids into their root tasks); an id the DAG does not have is an error.
  const unknown = (follow ?? []).filter((id) => !plan.tasks.has(id));
  if (unknown.length > 0) {
    throw new UpdraftError(
      "REQUEST_INVALID",
      `follow_task_ids names ${unknown.map((id) => `"${id}"`).join(", ")}, which ${unknown.length > 1 ? "are not tasks" : "is not a task"} of DAG "${claims.ti.dag_id}".`,
    );
  }
  // As skip_all_except: the direct downstream tasks not followed are skipped, except those
  // downstream of a followed task (the "join" after an empty branch).
  const keep = new Set<string>();
  for (const id of follow ?? []) {
    keep.add(id);
    for (const d of plan.allDownstream(id)) keep.add(d);
  }
  return task.downstream_task_ids.filter((id) => !keep.has(id));
}

/** What this finish decides about the downstream tasks, and what it leaves to the scheduler. */
interface Prediction {
  decisions: Decision[];
  /** Downstream tasks that wait on other tasks too: the scheduler decides them (a scoped evaluation). */
  pending: string[];
  /** The scheduler must evaluate the whole run (a cascade, a retry, the run may be over). */
  runCheck: boolean;
}

/**
 * The downstream tasks this try's success makes ready, when each waits on this task alone (not
 * mapped, no setups elsewhere): no other end can race with it, and the model decides from this
 * try's success. Anything else downstream — a join, a cascade of a failure or a skip — is left
 * to the scheduler (`runCheck`).
 */
function predictDownstream(input: FinishInput): Prediction {
  const { plan, claims, req, skips } = input;
  const { ti } = claims;
  const task = plan?.task(ti.task_id);
  if (plan === undefined || task === undefined) return { decisions: [], pending: [], runCheck: true };
  const skipped = new Set(skips);
  const downstream = task.downstream_task_ids.filter((id) => !skipped.has(id));
  // A skip cascades; a failure's downstream depends on whether the try is retried. An end that a
  // depends_on_past instance of a later run may wait on is told to the scheduler too, which then
  // evaluates the DAG's other runs (plan.pastWatched is empty for DAGs without depends_on_past).
  const runCheck =
    skips.length > 0 ||
    (req.state !== "success" && downstream.length > 0) ||
    // fail_stop: a failure stops the rest of the run (the scheduler's whole-run evaluation).
    (req.state === "failed" && plan.dag.fail_stop) ||
    plan.pastWatched.has(ti.task_id);
  if (downstream.length === 0 || req.state !== "success") return { decisions: [], pending: [], runCheck };
  const alone =
    ti.map_index === -1 && task.expand === null
      ? downstream.filter((id) => {
          const tp = plan.tasks.get(id);
          // A depends_on_past task also waits on the previous run: the scheduler decides it.
          return (
            tp !== undefined &&
            !tp.mapped &&
            tp.indirectSetups.length === 0 &&
            tp.upstream.length === 1 &&
            !tp.task.depends_on_past
          );
        })
      : [];
  const tis: TiSnapshot[] = [
    { task_id: ti.task_id, map_index: -1, state: "success", retry_due: false },
    ...alone.map((id) => ({ task_id: id, map_index: -1, state: null, retry_due: false })),
  ];
  const ev = evaluateTasks(plan, tis, alone);
  const ready = ev.incomplete ? [] : ev.changes.filter((c) => c.to === "scheduled");
  const decided = new Set(ready.map((c) => c.task_id));
  return {
    decisions: withPositions(plan, ready),
    pending: downstream.filter((id) => !decided.has(id)),
    runCheck,
  };
}

function withPositions(plan: DagPlan, changes: readonly TiChange[]): Decision[] {
  return changes.map((c) => ({ ...c, pos: plan.position.get(c.task_id) ?? 0 }));
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

/** The outcome once the statements ran: the handed-over try's workload and start, the wake-up. */
async function finished(
  db: Executor,
  input: FinishInput,
  state: TaskInstanceState,
  skipped: number,
  row: StatementRow,
  pending: readonly string[],
): Promise<FinishOutcome> {
  const { claims, req, plan, options } = input;
  let next: FinishResult["next"] = null;
  const handOver = options.handOver;
  if (
    plan !== undefined &&
    handOver !== undefined &&
    handOver !== null &&
    typeof row.next_task_id === "string"
  ) {
    const key = {
      dag_id: claims.ti.dag_id,
      // Another run of the DAG when no run of it can reach max_active_tasks (hand-over.ts).
      run_id: row.next_run_id ?? claims.ti.run_id,
      task_id: row.next_task_id,
      map_index: row.next_map_index ?? -1,
    };
    const refs = plan.xcomReferences(key.task_id);
    let xcoms = row.xcoms ?? [];
    if (row.xcoms_complete !== true && refs.length > 0) {
      const again = await sql<{ xcoms: StartRow["xcoms"] }>`
        select ${xcomSubquery(key.dag_id, key.run_id, refs)} as xcoms`.execute(db);
      xcoms = again.rows[0]?.xcoms ?? [];
    }
    // The value this finish stored is not visible to the statement's own reads.
    const stored: [string, unknown][] =
      key.run_id !== claims.ti.run_id
        ? []
        : [
            ...(req.return_value === undefined
              ? []
              : [["return_value", req.return_value.value] as [string, unknown]]),
            ...(req.xcoms ?? []).map((x): [string, unknown] => [x.key, x.value]),
          ];
    for (const [xkey, value] of stored) {
      xcoms = xcoms.filter(
        (x) => !(x[0] === claims.ti.task_id && x[1] === xkey && x[2] === claims.ti.map_index),
      );
      xcoms.push([claims.ti.task_id, xkey, claims.ti.map_index, value as JsonValue]);
    }
    const startRow: StartRow = { ...(row as unknown as StartRow), max_tries: row.next_max_tries ?? 0, xcoms };
    next = {
      workload: taskWorkload(handOver.signer, plan, key, row.next_try_number ?? 1, {
        priorityWeight: row.next_priority_weight ?? 1,
        queue: row.next_queue ?? "default",
      }),
      start: startResponse(plan, key, startRow, refs, handOver.heartbeatIntervalS),
    };
  }
  const wake =
    typeof row.wake_scheduled === "number" &&
    (row.wake_scheduled > 0 || row.wake_run_check === true || pending.length > 0)
      ? wakeEvent(claims, state, row.wake_scheduled, row.wake_run_check === true, pending)
      : null;
  const tail = row.wake_tail === true && row.wake_run_check !== true;
  return done(state, skipped, next, wake, typeof row.notified === "string", tail);
}

function done(
  state: TaskInstanceState,
  skipped: number,
  next: FinishResult["next"],
  wake: TiFinished | null,
  notified: boolean,
  tail = false,
): FinishOutcome {
  return { kind: "done", result: { state, skipped, next }, wake, notified, tail };
}

function wakeEvent(
  claims: TokenClaims,
  state: string,
  scheduled: number,
  runCheck: boolean,
  evaluate: readonly string[] = [],
): TiFinished {
  const { ti } = claims;
  return {
    type: "ti_finished",
    dag_id: ti.dag_id,
    run_id: ti.run_id,
    task_id: ti.task_id,
    map_index: ti.map_index,
    state,
    scheduled,
    run_check: runCheck,
    evaluate: [...evaluate],
  };
}

interface StatementRow {
  state: string | null;
  /** Seconds the ended try ran, and waited queued (for task.duration / task.queued_duration). */
  duration: number | null;
  queued_s: number | null;
  dag_hash: string | null;
  skipped: [string, number][] | null;
  next_task_id: string | null;
  next_run_id: string | null;
  next_map_index: number | null;
  next_try_number: number | null;
  next_max_tries: number | null;
  next_priority_weight: number | null;
  next_queue: string | null;
  xcoms: StartRow["xcoms"] | null;
  /** The statement's XCom read covered the next try's references. */
  xcoms_complete: boolean | null;
  wake_scheduled: number | null;
  wake_run_check: boolean | null;
  /** Every other unfinished instance of the run was running or queued (see recheckRunEnd). */
  wake_tail: boolean | null;
  notified: string | null;
}

interface StatementParts {
  end: TryEnd;
  skips: readonly string[];
  /** The downstream decisions this try's success makes. */
  decisions: readonly Decision[];
  /** Downstream tasks left to the scheduler's scoped evaluation. */
  pending: readonly string[];
  /** The scheduler must evaluate the run whatever the statement finds. */
  forceRunCheck: boolean;
}

/**
 * The finish statement. CTEs, in order: the end (`ended`, `ended_hist`), the return value
 * (`pushed`), a branch's skips (`skipped`), the decisions (`dec`), the hand-over (`freed`, `head`
 * … `started`), the decisions written (`c`, `upd`: not the one handed over), and `wake`: what the
 * scheduler must still do. Its one row says what happened.
 */
async function runStatement(
  db: Executor,
  input: FinishInput,
  p: StatementParts,
): Promise<StatementRow | undefined> {
  const { claims, plan, xcom, options } = input;
  const { ti } = claims;
  const handOverOptions = options.handOver ?? null;
  const runner = handOverOptions === null ? null : (input.req.accept_next ?? null);
  const handOver = runner !== null && plan !== undefined;
  const guard = sql`t.state = 'running'
    and (select dag_hash from serialized_dag where dag_id = ${ti.dag_id}) is not distinct from ${plan?.hash ?? null}::text`;
  const ctes: RawBuilder<unknown>[] = [endTriesCtes([p.end], guard)];
  if (xcom !== null) ctes.push(xcomCte(input, xcom));
  if (p.skips.length > 0) ctes.push(skipCte(p.skips));
  const outlets = outletUris(input);
  if (outlets.length > 0) ctes.push(assetEventCtes(input, outlets));
  const rows = p.decisions.map((d) => ({
    task_id: d.task_id,
    map_index: d.map_index,
    from_state: d.from,
    to_state: d.to,
    pos: d.pos,
  }));
  ctes.push(sql`dec as (${rowsSql(rows, DEC_COLUMNS, "d")})`);
  if (handOver && handOverOptions !== null) {
    ctes.push(sql`freed as (select dag_id, run_id, pool, pool_slots, queue, executor from ended)`);
    ctes.push(
      handOverCtes(
        runner,
        notHandedOver(plan, ti.task_id),
        crossRun(plan, ti.task_id, handOverOptions.maxActiveTasksPerDag),
      ),
    );
  }
  // A decision applies only if the end did, and not to the try handed over (started above).
  const applies = handOver
    ? sql`exists (select 1 from ended) and not exists (select 1 from started s
        where s.run_id = ${ti.run_id} and s.task_id = c.task_id and s.map_index = c.map_index)`
    : sql`exists (select 1 from ended)`;
  const written = decisionCtes(
    [{ dag_id: ti.dag_id, run_id: ti.run_id, plan, changes: p.decisions }],
    applies,
  );
  if (written !== null) ctes.push(written.ctes);
  const decided = written === null ? sql`0` : sql`(select count(*)::int from (${written.decided}) x)`;
  const handedFresh = handOver
    ? sql`(select count(*)::int from started s join dec d on d.task_id = s.task_id and d.map_index = s.map_index
        where s.run_id = ${ti.run_id})`
    : sql`0`;
  const scheduledLeft =
    written === null
      ? sql`0`
      : sql`(select count(*)::int from (${written.decided}) x where x.state = 'scheduled')`;
  // The run may be over (no other unfinished instance), a retry waits, something is left to decide,
  // or a decision did not apply (it was made on a stale read): the scheduler evaluates the run.
  ctes.push(sql`wake as (
      select ${scheduledLeft} as scheduled,
        exists (select 1 from ended) and (${p.forceRunCheck}
          or (select state from ended) = 'up_for_retry'
          or ${unfinishedSql(input)} = 0
          or ${decided} + ${handedFresh} < ${p.decisions.length}) as run_check,
        exists (select 1 from ended) and ${inFlightOnlySql(input)} as tail
    )`);
  const cols: RawBuilder<unknown>[] = [
    sql`(select state from ended) as state, (select duration from ended) as duration,
      (select extract(epoch from (start_date - queued_dttm))::float8 from ended) as queued_s,
      (select dag_hash from serialized_dag where dag_id = ${ti.dag_id}) as dag_hash,
      (select scheduled from wake) as wake_scheduled, (select run_check from wake) as wake_run_check,
      (select tail from wake) as wake_tail`,
  ];
  if (p.skips.length > 0)
    cols.push(sql`(select json_agg(json_build_array(task_id, map_index)) from skipped) as skipped`);
  if (handOver) {
    const refs = [...new Set(p.decisions.flatMap((d) => plan.xcomReferences(d.task_id)))];
    cols.push(sql`s.task_id as next_task_id, s.run_id as next_run_id, s.map_index as next_map_index,
      s.try_number as next_try_number,
      s.max_tries as next_max_tries, s.priority_weight as next_priority_weight, s.queue as next_queue,
      ${runContextColumns(ti, refs)},
      (s.run_id = ${ti.run_id} and s.task_id = any(${p.decisions.map((d) => d.task_id)}::text[])) as xcoms_complete`);
  }
  const target = options.events?.notifyTarget() ?? null;
  if (target !== null) {
    cols.push(sql`(select pg_notify(${target.channel}::text, json_build_object('origin', ${target.origin}::text,
        'event', json_build_object('type', 'ti_finished', 'dag_id', ${ti.dag_id}::text, 'run_id', ${ti.run_id}::text,
          'task_id', ${ti.task_id}::text, 'map_index', ${ti.map_index}::int, 'state', (select state from ended),
          'scheduled', w.scheduled, 'run_check', w.run_check, 'evaluate', ${JSON.stringify(p.pending)}::json))::text)
      from wake w where w.scheduled > 0 or w.run_check or ${p.pending.length > 0}) as notified`);
  }
  const from = handOver
    ? sql`from (select 1) as one left join started s on true
        left join dag_run dr on dr.dag_id = s.dag_id and dr.run_id = s.run_id`
    : sql``;
  const result = await sql<StatementRow>`
    with ${sql.join(ctes, sql`, `)}
    select ${sql.join(cols, sql`, `)} ${from}`.execute(db);
  return result.rows[0];
}

/**
 * Whether every other unfinished instance of the run is in flight (running or queued), as the
 * statement reads them: then another finish may run at the same time, and each statement, blind to
 * the other's uncommitted end, sees the other still running; neither would ask for the run check.
 */
function inFlightOnlySql(input: FinishInput): RawBuilder<unknown> {
  const { ti } = input.claims;
  return sql`not exists (select 1 from task_instance u
      where u.dag_id = ${ti.dag_id} and u.run_id = ${ti.run_id}
        and (u.state is null or (u.state in (${UNFINISHED_SQL}) and u.state not in ('running', 'queued')))
        and not (u.task_id = ${ti.task_id} and u.map_index = ${ti.map_index}))`;
}

/**
 * After the finish committed, at the run's tail only: if no instance of the run is unfinished any
 * more, the scheduler is asked for the run check that two concurrent finishes each left to the
 * other (the later commit's re-read sees both ends). Without it the run waited for the periodic
 * pass (scheduler_heartbeat_sec), up to 5 s after its last task.
 */
async function recheckRunEnd(db: Executor, claims: TokenClaims, state: string): Promise<TiFinished | null> {
  const { ti } = claims;
  const r = await sql<{ open: boolean }>`select exists (select 1 from task_instance u
      where u.dag_id = ${ti.dag_id} and u.run_id = ${ti.run_id}
        and (u.state is null or u.state in (${UNFINISHED_SQL}))) as open`.execute(db);
  return r.rows[0]?.open === false ? wakeEvent(claims, state, 0, true) : null;
}

/**
 * Whether the run has another unfinished task instance (one probe of the partial index; the
 * decisions of this statement only ever make instances scheduled, never finished): if not, the
 * run may be over.
 */
function unfinishedSql(input: FinishInput): RawBuilder<unknown> {
  const { ti } = input.claims;
  return sql`(select count(*)::int from (select 1 from task_instance u
      where u.dag_id = ${ti.dag_id} and u.run_id = ${ti.run_id}
        and (u.state is null or u.state in (${UNFINISHED_SQL}))
        and not (u.task_id = ${ti.task_id} and u.map_index = ${ti.map_index})
      limit 1) as u)`;
}

/** The XComs a finish stores: keys and their JSON texts, in the same order. */
interface XComRows {
  keys: string[];
  jsons: string[];
}

/**
 * The return value and the further XComs (multipleOutputs) a successful try reports, checked
 * like pushes; null when there are none.
 */
function finishXcoms(claims: TokenClaims, req: FinishRequest, maxSize: number): XComRows | null {
  const extra = req.xcoms ?? [];
  if ((req.return_value !== undefined || extra.length > 0) && req.state !== "success") {
    throw new UpdraftError("REQUEST_INVALID", "Only a successful try reports a return value or XComs.");
  }
  const rows: XComRows = { keys: [], jsons: [] };
  if (req.return_value !== undefined) {
    rows.keys.push("return_value");
    rows.jsons.push(xcomJson(claims.ti.task_id, "return_value", req.return_value.value, maxSize));
  }
  for (const x of extra) {
    if (rows.keys.includes(x.key)) {
      throw new UpdraftError("REQUEST_INVALID", `The finish report gives XCom "${x.key}" twice.`);
    }
    rows.keys.push(x.key);
    rows.jsons.push(xcomJson(claims.ti.task_id, x.key, x.value, maxSize));
  }
  return rows.keys.length === 0 ? null : rows;
}

/** The CTE storing the return value (and further XComs) of a try that ended successfully. */
function xcomCte(input: FinishInput, rows: XComRows): RawBuilder<unknown> {
  const { ti } = input.claims;
  return sql`pushed as (
      insert into xcom (dag_id, run_id, task_id, map_index, key, value)
      select ${ti.dag_id}, ${ti.run_id}, ${ti.task_id}, ${ti.map_index}, v.key, v.value::json
      from ended, unnest(${rows.keys}::text[], ${rows.jsons}::text[]) as v(key, value)
      where ended.state = 'success'
      on conflict (dag_id, run_id, task_id, map_index, key) do update set value = excluded.value, timestamp = now()
    )`;
}

/** The task's outlets (decision 0031): the assets a success of this try updates. */
function outletUris(input: FinishInput): string[] {
  if (input.req.state !== "success") return [];
  const task = input.plan?.task(input.claims.ti.task_id);
  return [...new Set((task?.outlets ?? []).map((a) => a.uri))];
}

/**
 * The CTEs recording a success's asset events (one per outlet, with the extra the task gave) and
 * queueing them for each active DAG scheduled on the asset; nothing if the end did not apply as a
 * success. One queue row per (asset, consumer): a later update moves its time forward.
 */
function assetEventCtes(input: FinishInput, uris: readonly string[]): RawBuilder<unknown> {
  const { ti } = input.claims;
  const mine = new Set(uris);
  // The runner refuses extra for other assets; a stale one is ignored rather than failing the end.
  const extras = (input.req.outlet_events ?? []).filter((e) => mine.has(e.uri));
  return sql`asset_ev as (
      insert into asset_event (asset_id, source_dag_id, source_run_id, source_task_id, source_map_index, extra)
      select a.id, ${ti.dag_id}, ${ti.run_id}, ${ti.task_id}, ${ti.map_index}, coalesce(x.extra, '{}'::jsonb)
      from asset a
        left join jsonb_to_recordset(${JSON.stringify(extras)}::jsonb) as x(uri text, extra jsonb) on x.uri = a.uri
      where a.uri = any(${uris}::text[]) and exists (select 1 from ended where ended.state = 'success')
      returning asset_id, timestamp
    ), asset_queued as (
      insert into asset_dag_run_queue (asset_id, target_dag_id, created_at)
      select e.asset_id, r.dag_id, e.timestamp
      from asset_ev e join dag_schedule_asset_reference r on r.asset_id = e.asset_id
        join dag d on d.dag_id = r.dag_id and d.is_active
      on conflict (asset_id, target_dag_id) do update
        set created_at = greatest(asset_dag_run_queue.created_at, excluded.created_at)
    )`;
}

/** The CTE `skipped` skipping a branch's or short-circuit's downstream task instances. */
function skipCte(taskIds: readonly string[]): RawBuilder<unknown> {
  return sql`skipped as (
      update task_instance set state = 'skipped', start_date = coalesce(start_date, now()), end_date = now(),
        duration = 0, next_retry_at = null, updated_at = now()
      where dag_id = (select dag_id from ended) and run_id = (select run_id from ended)
        and (select state from ended) = 'success'
        and task_id in (select jsonb_array_elements_text(${JSON.stringify(taskIds)}::jsonb))
        and (state is null or state in (select jsonb_array_elements_text(${SKIPPABLE}::jsonb)))
      returning task_id, map_index
    )`;
}
