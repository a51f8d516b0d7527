import { sql, type Updateable } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import type { DagRunState, DagRunType } from "../../model/states.js";
import type { Executor } from "../executor.js";
import { isUniqueViolation } from "../pg-errors.js";
import type { DagRunRow, DagRunTable, JsonValue } from "../schema.js";
import { toJson } from "../schema.js";

export interface DagRunKey {
  dagId: string;
  runId: string;
}

export interface CreateDagRunInput extends DagRunKey {
  runType: DagRunType;
  logicalDate?: Date | null;
  dataIntervalStart?: Date | null;
  dataIntervalEnd?: Date | null;
  /** When the run may start; defaults to the database's now(). */
  runAfter?: Date;
  state?: DagRunState;
  conf?: Record<string, JsonValue>;
  externalTrigger?: boolean;
  creatingJobId?: number | null;
  dagHash?: string | null;
}

/**
 * Creates a DAG run. A second run with the same run id, or for the same logical date, is refused
 * with DAG_RUN_EXISTS (the unique constraints decide, so concurrent schedulers cannot both win).
 */
export async function createDagRun(db: Executor, input: CreateDagRunInput): Promise<DagRunRow> {
  try {
    return await db
      .insertInto("dag_run")
      .values({
        dag_id: input.dagId,
        run_id: input.runId,
        run_type: input.runType,
        logical_date: input.logicalDate ?? null,
        data_interval_start: input.dataIntervalStart ?? null,
        data_interval_end: input.dataIntervalEnd ?? null,
        ...(input.runAfter !== undefined ? { run_after: input.runAfter } : {}),
        state: input.state ?? "queued",
        conf: toJson(input.conf ?? {}),
        external_trigger: input.externalTrigger ?? false,
        creating_job_id: input.creatingJobId ?? null,
        dag_hash: input.dagHash ?? null,
        ...(input.state === "running" ? { start_date: sql<Date>`now()` } : {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err)) {
      const byDate = isUniqueViolation(err, "dag_run_dag_id_logical_date_key");
      throw new UpdraftError(
        "DAG_RUN_EXISTS",
        byDate
          ? `DAG "${input.dagId}" already has a run for logical date ${input.logicalDate?.toISOString() ?? "?"}. Clear that run to run it again, or pick another logical date.`
          : `DAG "${input.dagId}" already has a run with id "${input.runId}". Pick another run id.`,
        { cause: err, details: { dagId: input.dagId, runId: input.runId } },
      );
    }
    throw err;
  }
}

export async function getDagRun(db: Executor, key: DagRunKey): Promise<DagRunRow | undefined> {
  return db
    .selectFrom("dag_run")
    .selectAll()
    .where("dag_id", "=", key.dagId)
    .where("run_id", "=", key.runId)
    .executeTakeFirst();
}

export interface ListDagRunsOptions {
  dagId?: string;
  states?: readonly DagRunState[];
  runTypes?: readonly DagRunType[];
  logicalDateGte?: Date;
  logicalDateLte?: Date;
  /** Newest first by default. */
  order?: "asc" | "desc";
  limit?: number;
  offset?: number;
}

export async function listDagRuns(db: Executor, options: ListDagRunsOptions = {}): Promise<DagRunRow[]> {
  const order = options.order ?? "desc";
  let q = db.selectFrom("dag_run").selectAll().orderBy("run_after", order).orderBy("id", order);
  if (options.dagId !== undefined) q = q.where("dag_id", "=", options.dagId);
  if (options.states !== undefined) q = q.where("state", "in", nonEmpty(options.states));
  if (options.runTypes !== undefined) q = q.where("run_type", "in", nonEmpty(options.runTypes));
  if (options.logicalDateGte !== undefined) q = q.where("logical_date", ">=", options.logicalDateGte);
  if (options.logicalDateLte !== undefined) q = q.where("logical_date", "<=", options.logicalDateLte);
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset !== undefined) q = q.offset(options.offset);
  return q.execute();
}

export type DagRunChanges = Omit<Updateable<DagRunTable>, "id" | "dag_id" | "run_id" | "state">;

/**
 * Moves a run to `to` only if its state is one of `from`, in ONE statement. Returns the updated
 * row, or undefined when the run is missing or another actor changed its state first. Sets
 * start_date on the first move to running and end_date on success/failed (cleared otherwise).
 */
export async function transitionDagRun(
  db: Executor,
  key: DagRunKey,
  change: { from: readonly DagRunState[]; to: DagRunState; set?: DagRunChanges },
): Promise<DagRunRow | undefined> {
  const finished = change.to === "success" || change.to === "failed";
  return db
    .updateTable("dag_run")
    .set({
      ...change.set,
      state: change.to,
      updated_at: sql<Date>`now()`,
      end_date: finished ? sql<Date>`now()` : null,
      ...(change.to === "running" ? { start_date: sql<Date>`coalesce(start_date, now())` } : {}),
      ...(change.to === "queued" ? { queued_at: sql<Date>`now()`, start_date: null } : {}),
    })
    .where("dag_id", "=", key.dagId)
    .where("run_id", "=", key.runId)
    .where("state", "in", nonEmpty(change.from))
    .returningAll()
    .executeTakeFirst();
}

function nonEmpty<T>(values: readonly T[]): readonly T[] {
  if (values.length === 0) {
    throw new UpdraftError("DB_QUERY_INVALID", "A state filter needs at least one state.");
  }
  return values;
}
