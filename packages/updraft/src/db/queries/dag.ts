import { sql } from "kysely";
import type { Executor } from "../executor.js";
import { inTransaction } from "../executor.js";
import type { DagRow, JsonValue } from "../schema.js";
import { toJson } from "../schema.js";
import { writeSerializedDag } from "./serialized-dag.js";

/** What the DAG processor knows about a DAG after parsing its file. */
export interface DagUpsert {
  dagId: string;
  fileloc: string;
  owners?: string | null;
  description?: string | null;
  timetableSummary?: string | null;
  tags?: string[];
  maxActiveRuns?: number | null;
  maxActiveTasks?: number | null;
  /** Only used when the DAG is new (core.dags_are_paused_at_creation). */
  isPausedAtCreation?: boolean;
}

/**
 * Inserts or updates a DAG row from a parse, marks it active and parsed now. A new DAG starts
 * paused per `isPausedAtCreation`; an existing DAG keeps its paused flag.
 */
async function upsertDag(db: Executor, dag: DagUpsert): Promise<DagRow> {
  const values = {
    fileloc: dag.fileloc,
    owners: dag.owners ?? null,
    description: dag.description ?? null,
    timetable_summary: dag.timetableSummary ?? null,
    tags: toJson(dag.tags ?? []),
    max_active_runs: dag.maxActiveRuns ?? null,
    max_active_tasks: dag.maxActiveTasks ?? null,
    is_active: true,
  };
  return db
    .insertInto("dag")
    .values({
      dag_id: dag.dagId,
      is_paused: dag.isPausedAtCreation ?? true,
      last_parsed_time: sql<Date>`now()`,
      ...values,
    })
    .onConflict((oc) => oc.column("dag_id").doUpdateSet({ ...values, last_parsed_time: sql<Date>`now()` }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Saves a parsed DAG and its serialized form in one transaction. The serialized row is only
 * rewritten when `dagHash` changed; returns whether it was.
 */
export async function saveDag(
  db: Executor,
  dag: DagUpsert,
  serialized: { data: JsonValue; dagHash: string },
): Promise<{ dag: DagRow; serializedChanged: boolean }> {
  return inTransaction(db, async (trx) => {
    const row = await upsertDag(trx, dag);
    const serializedChanged = await writeSerializedDag(trx, {
      dagId: dag.dagId,
      fileloc: dag.fileloc,
      data: serialized.data,
      dagHash: serialized.dagHash,
    });
    return { dag: row, serializedChanged };
  });
}

export async function getDag(db: Executor, dagId: string): Promise<DagRow | undefined> {
  return db.selectFrom("dag").selectAll().where("dag_id", "=", dagId).executeTakeFirst();
}

export interface ListDagsOptions {
  paused?: boolean;
  active?: boolean;
  dagIds?: readonly string[];
  limit?: number;
  offset?: number;
}

export async function listDags(db: Executor, options: ListDagsOptions = {}): Promise<DagRow[]> {
  let q = db.selectFrom("dag").selectAll().orderBy("dag_id");
  if (options.paused !== undefined) q = q.where("is_paused", "=", options.paused);
  if (options.active !== undefined) q = q.where("is_active", "=", options.active);
  if (options.dagIds !== undefined) {
    if (options.dagIds.length === 0) return [];
    q = q.where("dag_id", "in", options.dagIds);
  }
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset !== undefined) q = q.offset(options.offset);
  return q.execute();
}

/** Pauses or unpauses a DAG; returns the row, or undefined when there is no such DAG. */
export async function setDagPaused(
  db: Executor,
  dagId: string,
  paused: boolean,
): Promise<DagRow | undefined> {
  return db
    .updateTable("dag")
    .set({ is_paused: paused })
    .where("dag_id", "=", dagId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Marks as inactive the DAGs last seen in `fileloc` that the latest parse did not produce
 * (`keepDagIds`); with an empty list, every DAG of the file (the file was deleted). Returns them.
 */
export async function deactivateMissingDags(
  db: Executor,
  fileloc: string,
  keepDagIds: readonly string[],
): Promise<string[]> {
  let q = db
    .updateTable("dag")
    .set({ is_active: false })
    .where("fileloc", "=", fileloc)
    .where("is_active", "=", true);
  if (keepDagIds.length > 0) q = q.where("dag_id", "not in", keepDagIds);
  const rows = await q.returning("dag_id").execute();
  return rows.map((r) => r.dag_id);
}

/** Records when the scheduler should create this DAG's next run (all null: no more runs). */
export async function setNextDagrun(
  db: Executor,
  dagId: string,
  next: {
    nextDagrun: Date | null;
    dataIntervalStart: Date | null;
    dataIntervalEnd: Date | null;
    createAfter: Date | null;
  },
): Promise<void> {
  await db
    .updateTable("dag")
    .set({
      next_dagrun: next.nextDagrun,
      next_dagrun_data_interval_start: next.dataIntervalStart,
      next_dagrun_data_interval_end: next.dataIntervalEnd,
      next_dagrun_create_after: next.createAfter,
    })
    .where("dag_id", "=", dagId)
    .execute();
}
