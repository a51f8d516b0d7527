import { sql } from "kysely";
import type { Executor as Db } from "../db/index.js";
import type { RunRef } from "./schedule-runs.js";

/** The running runs of the given DAGs, oldest logical date first (whole-run evaluations). */
export async function runningRuns(db: Db, dagIds: readonly string[]): Promise<RunRef[]> {
  if (dagIds.length === 0) return [];
  const res = await sql<{ dag_id: string; run_id: string }>`
    select dag_id, run_id from dag_run
    where state = 'running' and dag_id = any(${[...dagIds]}::text[])
    order by logical_date nulls last, id`.execute(db);
  return res.rows.map((r) => ({ dagId: r.dag_id, runId: r.run_id }));
}
