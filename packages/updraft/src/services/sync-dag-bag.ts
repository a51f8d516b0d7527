import { sql } from "kysely";
import { describeError } from "../common/errors.js";
import {
  deactivateMissingDags,
  deleteDagCode,
  inTransaction,
  saveDag,
  setImportErrors,
  setNextDagrun,
  setDagCode,
  type Executor,
  type JsonValue,
} from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { SerializedDag } from "../model/serialized-dag.js";
import { parseSchedule } from "../model/timetable.js";
import { syncAssetReferences } from "./asset-references.js";

/**
 * What one refresh of the DAG processor found (the plain data of its `RefreshResult`, so that
 * services never import the processor runtime).
 */
export interface DagBagChanges {
  upsertedDags: readonly SerializedDag[];
  removedDagIds: readonly string[];
  removedFiles?: readonly string[];
  importErrorChanges: readonly { filename: string; errors: readonly { error: string; line?: number }[] }[];
  /** The source of files that define DAGs, as evaluated (stored in dag_code for the API). */
  dagCode?: readonly { fileloc: string; source: string }[];
}

export interface SyncDagBagOptions {
  /** core.dags_are_paused_at_creation, for DAGs that do not say. */
  pausedAtCreation: boolean;
  /** core.default_timezone, for DAGs without their own. */
  defaultTimezone?: string;
  events?: EngineEvents | null;
}

export interface SyncDagBagResult {
  /** DAGs written (new or changed hash). */
  upserted: string[];
  /** DAGs marked inactive. */
  deactivated: string[];
  /** Files whose import errors were replaced. */
  importErrorFiles: string[];
  /** DAGs whose next run could not be computed, with why. */
  scheduleProblems: { dag_id: string; error: string }[];
}

/**
 * Writes a refresh of the DAG processor to the database in one transaction: upserts each new or
 * changed DAG with its serialized form and recomputes its `next_dagrun*` from its timetable and
 * last automated run, replaces import errors per file, and deactivates DAGs no file defines.
 */
export async function syncDagBag(
  db: Executor,
  changes: DagBagChanges,
  options: SyncDagBagOptions,
): Promise<SyncDagBagResult> {
  const result: SyncDagBagResult = {
    upserted: [],
    deactivated: [],
    importErrorFiles: [],
    scheduleProblems: [],
  };
  await inTransaction(db, async (trx) => {
    const nowRow = await sql<{ now: Date }>`select now() as now`.execute(trx);
    const now = nowRow.rows[0]?.now ?? new Date();
    for (const dag of changes.upsertedDags) {
      const saved = await saveDag(
        trx,
        {
          dagId: dag.dag_id,
          fileloc: dag.fileloc,
          owners: dag.owners.join(", "),
          description: dag.description,
          timetableSummary: dag.timetable_summary,
          tags: [...dag.tags],
          maxActiveRuns: dag.max_active_runs,
          maxActiveTasks: dag.max_active_tasks,
          isPausedAtCreation: dag.is_paused_upon_creation ?? options.pausedAtCreation,
        },
        { data: dag as unknown as JsonValue, dagHash: dag.dag_hash },
      );
      result.upserted.push(dag.dag_id);
      if (saved.serializedChanged) {
        await syncAssetReferences(trx, dag);
        try {
          await updateNextDagrun(trx, dag, now, options.defaultTimezone ?? "UTC");
        } catch (err) {
          result.scheduleProblems.push({ dag_id: dag.dag_id, error: describeError(err) });
          await setNextDagrun(trx, dag.dag_id, {
            nextDagrun: null,
            dataIntervalStart: null,
            dataIntervalEnd: null,
            createAfter: null,
          });
        }
      }
    }
    if (changes.removedDagIds.length > 0) {
      const rows = await trx
        .updateTable("dag")
        .set({ is_active: false })
        .where("dag_id", "in", changes.removedDagIds)
        .where("is_active", "=", true)
        .returning("dag_id")
        .execute();
      result.deactivated.push(...rows.map((r) => r.dag_id));
    }
    for (const file of changes.removedFiles ?? []) {
      result.deactivated.push(...(await deactivateMissingDags(trx, file, [])));
      await setImportErrors(trx, file, []);
      await deleteDagCode(trx, file);
    }
    for (const code of changes.dagCode ?? []) {
      // PostgreSQL text cannot hold NUL: such a file's code is not stored (the API then answers 404).
      if (code.source.includes("\u0000")) continue;
      await setDagCode(trx, code.fileloc, code.source);
    }
    for (const change of changes.importErrorChanges) {
      await setImportErrors(
        trx,
        change.filename,
        change.errors.map((e) => ({ stacktrace: e.error, line: e.line ?? null })),
      );
      result.importErrorFiles.push(change.filename);
    }
  });
  for (const dagId of new Set([...result.upserted, ...result.deactivated])) {
    options.events?.emit({ type: "dag_changed", dag_id: dagId });
  }
  return result;
}

async function updateNextDagrun(
  db: Executor,
  dag: SerializedDag,
  now: Date,
  defaultTimezone: string,
): Promise<void> {
  const timetable = parseSchedule(dag.schedule, dag.timezone ?? defaultTimezone);
  const last = await db
    .selectFrom("dag_run")
    .select(["data_interval_start", "data_interval_end"])
    .where("dag_id", "=", dag.dag_id)
    .where("run_type", "in", ["scheduled", "backfill"])
    .orderBy(sql`logical_date desc nulls last`)
    .limit(1)
    .executeTakeFirst();
  const lastInterval =
    last?.data_interval_start !== null &&
    last?.data_interval_start !== undefined &&
    last.data_interval_end !== null
      ? { start: last.data_interval_start, end: last.data_interval_end }
      : null;
  const info = timetable.nextDagRunInfo({
    lastAutomatedDataInterval: lastInterval,
    restriction: {
      earliest: dag.start_date === null ? null : new Date(dag.start_date),
      latest: dag.end_date === null ? null : new Date(dag.end_date),
      catchup: dag.catchup,
    },
    now,
  });
  await setNextDagrun(
    db,
    dag.dag_id,
    info === null
      ? { nextDagrun: null, dataIntervalStart: null, dataIntervalEnd: null, createAfter: null }
      : {
          nextDagrun: info.logicalDate,
          dataIntervalStart: info.dataInterval.start,
          dataIntervalEnd: info.dataInterval.end,
          createAfter: info.runAfter,
        },
  );
}
