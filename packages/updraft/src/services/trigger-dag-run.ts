import { sql } from "kysely";
import { UpdraftError } from "../common/errors.js";
import { addAuditLog, inTransaction, type DagRunRow, type Executor, type JsonValue } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { DagPlan } from "../model/dag-plan.js";
import { resolveParams } from "../model/params.js";
import { generateRunId } from "../model/run-id.js";
import { loadDag } from "./dag-cache.js";
import { checkRunId, dagNotFound } from "./ids.js";
import { insertRuns } from "./insert-runs.js";

export interface TriggerDagRunInput {
  dagId: string;
  /** A JSON object; the DAG's params are checked against it. */
  conf?: unknown;
  /** Default Airflow's `manual__<logical date>` (model/run-id.ts). */
  runId?: string | null;
  /** Default: the database's now(). */
  logicalDate?: Date | string | null;
  /** Kept in the audit log with the trigger. */
  note?: string | null;
  /** Who triggered (for the audit log). */
  owner?: string | null;
}

export interface TriggerOptions {
  events?: EngineEvents | null;
  /** Zone of a DAG without its own (core.default_timezone). */
  defaultTimezone?: string;
}

function isPlainObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Creates a manual run (queued) and its task instances (a mapped task gets its placeholder,
 * map index -1) in one transaction, then emits `dag_run_created`. DAG_NOT_FOUND,
 * DAG_RUN_CONF_INVALID, PARAMS_INVALID (every violation listed, nothing created), RUN_ID_INVALID,
 * LOGICAL_DATE_INVALID, DAG_RUN_EXISTS (same run id or logical date).
 */
export async function triggerDagRun(
  db: Executor,
  input: TriggerDagRunInput,
  options: TriggerOptions = {},
): Promise<DagRunRow> {
  const exists = await db
    .selectFrom("dag")
    .select("dag_id")
    .where("dag_id", "=", input.dagId)
    .executeTakeFirst();
  const dag = exists === undefined ? undefined : await loadDag(db, input.dagId);
  if (dag === undefined) throw dagNotFound(input.dagId);
  const conf = input.conf ?? {};
  if (!isPlainObject(conf)) {
    throw new UpdraftError(
      "DAG_RUN_CONF_INVALID",
      `The conf of a DAG run must be a JSON object, not ${Array.isArray(conf) ? "an array" : typeof conf}.`,
    );
  }
  if (JSON.stringify(conf).includes("\\u0000")) {
    throw new UpdraftError(
      "DAG_RUN_CONF_INVALID",
      "The conf contains a NUL character (\\u0000), which cannot be stored.",
    );
  }
  if (input.note?.includes("\u0000") === true) {
    throw new UpdraftError(
      "DAG_RUN_NOTE_INVALID",
      "The note contains a NUL character, which cannot be stored.",
    );
  }
  resolveParams(dag.paramSpecs, conf);
  let logicalDate: Date;
  if (input.logicalDate === undefined || input.logicalDate === null) {
    const now = await sql<{ now: Date }>`select now() as now`.execute(db);
    logicalDate = now.rows[0]?.now ?? new Date();
  } else {
    logicalDate = input.logicalDate instanceof Date ? input.logicalDate : new Date(input.logicalDate);
    if (Number.isNaN(logicalDate.getTime())) {
      throw new UpdraftError(
        "LOGICAL_DATE_INVALID",
        `The logical date ${JSON.stringify(input.logicalDate)} is not an ISO 8601 date-time.`,
      );
    }
  }
  // A default logical date is "now"; JavaScript dates carry no microseconds, so two triggers of
  // one DAG in the same millisecond (a mapped TriggerDagRunOperator) would clash on it. The later
  // one takes the next free millisecond instead of failing.
  // A default run id is made from the date, so its clash is the date's too.
  const defaultDate = input.logicalDate === undefined || input.logicalDate === null;
  const idFromDate = input.runId === undefined || input.runId === null;
  for (let attempt = 0; ; attempt++) {
    const outcome = await insertManualRun(db, dag, input, conf, logicalDate, options);
    if ("run" in outcome) {
      options.events?.emit({ type: "dag_run_created", dag_id: input.dagId, run_id: outcome.run.run_id });
      return outcome.run;
    }
    const dateClash = !outcome.clash.sameId || idFromDate;
    if (!defaultDate || !dateClash || attempt >= MAX_DATE_BUMPS) throw outcome.clash.error;
    logicalDate = new Date(logicalDate.getTime() + 1);
  }
}

/** Milliseconds a default logical date moves forward past runs triggered in the same instant. */
const MAX_DATE_BUMPS = 100;

/** The run and its audit entry in one transaction, or what clashed (nothing written). */
async function insertManualRun(
  db: Executor,
  dag: DagPlan,
  input: TriggerDagRunInput,
  conf: Record<string, JsonValue>,
  logicalDate: Date,
  options: TriggerOptions,
): Promise<{ run: DagRunRow } | { clash: Clash }> {
  const runId = checkRunId(input.runId ?? generateRunId("manual", logicalDate));
  const interval = dag.timetable(options.defaultTimezone ?? "UTC").inferManualDataInterval(logicalDate);
  return inTransaction(db, async (trx) => {
    const [created] = await insertRuns(trx, dag, [
      {
        runId,
        runType: "manual",
        logicalDate,
        dataIntervalStart: interval.start,
        dataIntervalEnd: interval.end,
        conf,
        externalTrigger: true,
      },
    ]);
    if (created === undefined) return { clash: await runExists(trx, input.dagId, runId, logicalDate) };
    // Only a run triggered with a note pays the extra statement.
    const noted =
      input.note === undefined || input.note === null
        ? created
        : await trx
            .updateTable("dag_run")
            .set({ note: input.note })
            .where("id", "=", created.id)
            .returningAll()
            .executeTakeFirstOrThrow();
    await addAuditLog(trx, {
      event: "trigger",
      dagId: input.dagId,
      runId,
      owner: input.owner ?? null,
      extra: input.note === undefined || input.note === null ? null : JSON.stringify({ note: input.note }),
    });
    return { run: noted };
  });
}

interface Clash {
  /** The run id was taken (else the logical date). */
  sameId: boolean;
  error: UpdraftError;
}

/** DAG_RUN_EXISTS naming what clashed: the run id, or the logical date. */
async function runExists(db: Executor, dagId: string, runId: string, logicalDate: Date): Promise<Clash> {
  const sameId = await db
    .selectFrom("dag_run")
    .select("run_id")
    .where("dag_id", "=", dagId)
    .where("run_id", "=", runId)
    .executeTakeFirst();
  const error = new UpdraftError(
    "DAG_RUN_EXISTS",
    sameId !== undefined
      ? `DAG "${dagId}" already has a run with id "${runId}". Pick another run id.`
      : `DAG "${dagId}" already has a run for logical date ${logicalDate.toISOString()}. Clear that run to run it again, or pick another logical date.`,
  );
  return { sameId: sameId !== undefined, error };
}
