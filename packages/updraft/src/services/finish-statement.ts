// The finish statement (decision 0011 §7): one statement, no BEGIN/COMMIT, built from the CTEs of
// the end, the XComs, a branch's skips, the asset events, the decisions, the hand-over and the wake-up.
import { sql, type RawBuilder } from "kysely";
import { rowsSql, type Executor, type RowColumn } from "../db/index.js";
import { skipCte } from "./branch-skips.js";
import { endTriesCtes, type TryEnd } from "./end-try.js";
import type { FinishInput } from "./finish-input.js";
import { inFlightOnlySql, unfinishedSql } from "./finish-wake.js";
import { xcomCte } from "./finish-xcoms.js";
import { crossRun, handOverCtes, notHandedOver } from "./hand-over.js";
import { assetEventCtes, outletUris } from "./outlet-events.js";
import type { Decision } from "./predict-downstream.js";
import { runContextColumns, type StartRow } from "./start-context.js";
import { decisionCtes } from "./write-decisions.js";

const DEC_COLUMNS: readonly RowColumn[] = [
  ["task_id", "text"],
  ["map_index", "int"],
  ["from_state", "text"],
  ["to_state", "text"],
  ["pos", "int"],
];

export interface StatementRow {
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

export interface StatementParts {
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
export async function runStatement(
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
  if (xcom !== null) ctes.push(xcomCte(claims, xcom));
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
