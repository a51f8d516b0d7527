// Backfills: runs of run_type "backfill" for every scheduled logical date in a range, created
// queued in one transaction and started by the scheduler at most `maxActiveRuns` at a time. A
// backfill is a `job` row (job_type "backfill", as Airflow 2's BackfillJob) whose id is the runs'
// creating_job_id; its settings are kept in an audit `log` row (event "backfill").
import { hostname } from "node:os";
import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { inTransaction, type Database, type Executor as Db } from "../db/index.js";
import { generateRunId } from "../model/run-id.js";
import { dataIntervalsBetween } from "../model/timetable.js";
import { clearTaskInstances, dagNotFound, insertRuns, loadDag, type NewRun } from "../services/index.js";

export interface CreateBackfillInput {
  dagId: string;
  fromDate: Date;
  toDate: Date;
  /** Failed runs in the range are cleared (failed tasks only) and run again. */
  rerunFailed?: boolean;
  /** At most this many of the backfill's runs running at once (default 10). */
  maxActiveRuns?: number;
  /** Zone of a DAG without its own (core.default_timezone). */
  defaultTimezone?: string;
}

export interface BackfillCreated {
  backfillId: number;
  dagId: string;
  /** Run ids the backfill tracks: created and rerun. */
  runIds: string[];
  created: number;
  rerun: number;
  /** Logical dates that already had a run (left alone). */
  skipped: number;
}

export interface BackfillStatus {
  backfillId: number | null;
  dagId: string;
  total: number;
  queued: number;
  running: number;
  success: number;
  failed: number;
  /** Every tracked run is finished. */
  done: boolean;
  runs: { run_id: string; logical_date: string | null; state: string }[];
}

/**
 * Creates a backfill of `dagId` over `[fromDate, toDate]`. Throws DAG_NOT_FOUND, DATE_INVALID,
 * BACKFILL_INVALID or TOO_MANY_DAG_RUNS.
 *
 * @example
 * ```ts
 * const b = await createBackfill(database, { dagId: "sales", fromDate: new Date("2024-01-01"), toDate: new Date("2024-01-31"), maxActiveRuns: 3 });
 * const status = await backfillStatus(database, b.backfillId);
 * ```
 */
export async function createBackfill(
  database: Database,
  input: CreateBackfillInput,
): Promise<BackfillCreated> {
  const db = database.db;
  const maxActiveRuns = input.maxActiveRuns ?? 10;
  if (!Number.isInteger(maxActiveRuns) || maxActiveRuns < 1) {
    throw new UpdraftError(
      "BACKFILL_INVALID",
      `maxActiveRuns must be a whole number of at least 1 (got ${maxActiveRuns}).`,
    );
  }
  if (input.fromDate.getTime() > input.toDate.getTime()) {
    throw new UpdraftError(
      "DATE_INVALID",
      `The backfill's from date ${input.fromDate.toISOString()} is after its to date ${input.toDate.toISOString()}.`,
    );
  }
  const plan = await loadDag(db, input.dagId);
  if (plan === undefined) throw dagNotFound(input.dagId);
  const timetable = plan.timetable(input.defaultTimezone ?? "UTC");
  if (!timetable.canBeScheduled) {
    throw new UpdraftError(
      "BACKFILL_INVALID",
      `DAG "${input.dagId}" has no schedule, so it has no logical dates to backfill. Trigger runs by hand instead.`,
    );
  }
  const intervals = dataIntervalsBetween(timetable, input.fromDate, input.toDate);

  const result = await inTransaction(db, async (trx) => {
    const job = await trx
      .insertInto("job")
      .values({ job_type: "backfill", hostname: hostname(), pid: process.pid, state: "running" })
      .returning("id")
      .executeTakeFirstOrThrow();
    await trx
      .insertInto("log")
      .values({
        event: "backfill",
        dag_id: input.dagId,
        extra: JSON.stringify({
          backfill_id: job.id,
          from_date: input.fromDate.toISOString(),
          to_date: input.toDate.toISOString(),
          max_active_runs: maxActiveRuns,
          rerun_failed: input.rerunFailed === true,
        }),
      })
      .execute();
    const existing = await trx
      .selectFrom("dag_run")
      .select(["run_id", "logical_date", "state"])
      .where("dag_id", "=", input.dagId)
      .where("logical_date", ">=", input.fromDate)
      .where("logical_date", "<=", input.toDate)
      .execute();
    const byDate = new Map(existing.map((r) => [r.logical_date?.getTime(), r]));
    const runs: NewRun[] = [];
    const rerun: string[] = [];
    let skipped = 0;
    for (const info of intervals) {
      const run = byDate.get(info.logicalDate.getTime());
      if (run === undefined) {
        runs.push({
          runId: generateRunId("backfill", info.logicalDate),
          runType: "backfill",
          logicalDate: info.logicalDate,
          dataIntervalStart: info.dataInterval.start,
          dataIntervalEnd: info.dataInterval.end,
          creatingJobId: job.id,
        });
      } else if (input.rerunFailed === true && run.state === "failed") {
        rerun.push(run.run_id);
      } else {
        skipped++;
      }
    }
    const created = await insertRuns(trx, plan, runs);
    for (const runId of rerun) {
      await clearTaskInstances(trx, { dagId: input.dagId, runId, onlyFailed: true });
    }
    if (rerun.length > 0) {
      await trx
        .updateTable("dag_run")
        .set({ creating_job_id: job.id })
        .where("dag_id", "=", input.dagId)
        .where("run_id", "in", rerun)
        .execute();
    }
    skipped += runs.length - created.length;
    return {
      backfillId: job.id,
      dagId: input.dagId,
      runIds: [...created.map((r) => r.run_id), ...rerun].sort(),
      created: created.length,
      rerun: rerun.length,
      skipped,
    };
  });
  return result;
}

/**
 * Progress of a backfill by id, or of the backfill runs of a DAG in a date range. Marks the
 * backfill's job finished once every run is.
 */
export async function backfillStatus(
  database: Database,
  which: number | { dagId: string; fromDate: Date; toDate: Date },
): Promise<BackfillStatus> {
  const db = database.db;
  let q = db
    .selectFrom("dag_run")
    .select(["dag_id", "run_id", "logical_date", "state"])
    .orderBy("logical_date")
    .orderBy("id");
  let dagId: string;
  if (typeof which === "number") {
    const job = await db
      .selectFrom("job")
      .select(["id", "job_type"])
      .where("id", "=", which)
      .executeTakeFirst();
    if (job?.job_type !== "backfill") {
      throw new UpdraftError("BACKFILL_NOT_FOUND", `There is no backfill with id ${which}.`);
    }
    q = q.where("creating_job_id", "=", which).where("run_type", "=", "backfill");
    const first = await q.executeTakeFirst();
    dagId = first?.dag_id ?? (await backfillDagId(db, which)) ?? "";
  } else {
    dagId = which.dagId;
    q = q
      .where("dag_id", "=", which.dagId)
      .where("run_type", "=", "backfill")
      .where("logical_date", ">=", which.fromDate)
      .where("logical_date", "<=", which.toDate);
  }
  const rows = await q.execute();
  const count = (s: string) => rows.filter((r) => r.state === s).length;
  const status: BackfillStatus = {
    backfillId: typeof which === "number" ? which : null,
    dagId,
    total: rows.length,
    queued: count("queued"),
    running: count("running"),
    success: count("success"),
    failed: count("failed"),
    done: rows.every((r) => r.state === "success" || r.state === "failed"),
    runs: rows.map((r) => ({
      run_id: r.run_id,
      logical_date: r.logical_date?.toISOString() ?? null,
      state: r.state,
    })),
  };
  if (status.done && typeof which === "number") {
    await db
      .updateTable("job")
      .set({ state: status.failed > 0 ? "failed" : "success", end_date: sql<Date>`now()` })
      .where("id", "=", which)
      .where("state", "=", "running")
      .execute();
  }
  return status;
}

async function backfillDagId(db: Db, backfillId: number): Promise<string | undefined> {
  const row = await sql<{ dag_id: string }>`
    select dag_id from log where event = 'backfill' and (extra::jsonb ->> 'backfill_id')::int = ${backfillId}
    limit 1`.execute(db);
  return row.rows[0]?.dag_id;
}

const limits = new Map<number, number>();

/** The max_active_runs a backfill was created with (cached: it never changes). */
export async function backfillMaxActiveRuns(db: Db, dagId: string, backfillId: number): Promise<number> {
  const hit = limits.get(backfillId);
  if (hit !== undefined) return hit;
  const row = await sql<{ n: number | null }>`
    select (extra::jsonb ->> 'max_active_runs')::int as n from log
    where event = 'backfill' and dag_id = ${dagId} and (extra::jsonb ->> 'backfill_id')::int = ${backfillId}
    limit 1`.execute(db);
  const n = row.rows[0]?.n ?? 10;
  limits.set(backfillId, n);
  return n;
}
