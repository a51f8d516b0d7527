import { sql, type RawBuilder } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Database } from "./open.js";

export const CLEANED_TABLES = [
  "xcom",
  "sla_miss",
  "deadline",
  "task_instance_history",
  "task_instance",
  "dag_run",
  "asset_event",
  "log",
  "import_error",
  "job",
  "notification",
] as const;
export type CleanedTable = (typeof CLEANED_TABLES)[number];

export interface CleanOptions {
  /** Rows older than this many days (by the database's clock) go. */
  olderThanDays: number;
  /** Count what would go, change nothing. */
  dryRun?: boolean;
}

/**
 * Deletes history older than N days: finished DAG runs (with their task instances, tries and
 * XComs), asset events, audit log entries, import errors, jobs and handled notifications. Returns the rows per table deleted (or, with
 * dryRun, that would be). Runs that are queued or running are never touched.
 */
export async function cleanDatabase(
  database: Database,
  options: CleanOptions,
): Promise<Record<CleanedTable, number>> {
  const days = options.olderThanDays;
  if (!Number.isFinite(days) || days < 0) {
    throw new UpdraftError("CLEAN_INVALID", `olderThanDays must be a number >= 0 (got ${days}).`);
  }
  const cutoff = sql`(now() - make_interval(secs => ${days * 86_400}))`;
  const oldRuns = sql`(select r.dag_id, r.run_id from dag_run r
    where r.state in ('success', 'failed')
      and coalesce(r.end_date, r.start_date, r.queued_at, r.run_after) < ${cutoff})`;
  const inOldRun = (t: string): RawBuilder<unknown> =>
    sql`(${sql.ref(`${t}.dag_id`)}, ${sql.ref(`${t}.run_id`)}) in (select dag_id, run_id from ${oldRuns} o)`;
  const where: Record<CleanedTable, RawBuilder<unknown>> = {
    xcom: inOldRun("xcom"),
    sla_miss: inOldRun("sla_miss"),
    deadline: inOldRun("deadline"),
    task_instance_history: inOldRun("task_instance_history"),
    task_instance: inOldRun("task_instance"),
    dag_run: inOldRun("dag_run"),
    // Asset events by their own time (Airflow's db clean does the same); a run's link goes with them.
    asset_event: sql`asset_event.timestamp < ${cutoff}`,
    log: sql`log.dttm < ${cutoff}`,
    import_error: sql`import_error.timestamp < ${cutoff}`,
    job: sql`job.latest_heartbeat < ${cutoff}`,
    // Handled notifications only: one still pending is work, not history.
    notification: sql`notification.done_at < ${cutoff}`,
  };
  return database.db.transaction().execute(async (trx) => {
    const counts = {} as Record<CleanedTable, number>;
    // Children first, so each count is what this table loses, not a cascade's.
    for (const table of CLEANED_TABLES) {
      if (options.dryRun === true) {
        const { rows } = await sql<{
          n: number;
        }>`select count(*)::int as n from ${sql.table(table)} where ${where[table]}`.execute(trx);
        counts[table] = rows[0]?.n ?? 0;
      } else {
        const result = await sql`delete from ${sql.table(table)} where ${where[table]}`.execute(trx);
        counts[table] = Number(result.numAffectedRows ?? 0n);
      }
    }
    return counts;
  });
}
