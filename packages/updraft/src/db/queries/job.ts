import { sql } from "kysely";
import type { Executor } from "../executor.js";
import type { JobRow } from "../schema.js";

/** Records a component (scheduler, triggerer, dag_processor, api_server…) starting; returns its job. */
export async function startJob(
  db: Executor,
  job: { jobType: string; hostname: string | null; pid: number | null },
): Promise<JobRow> {
  return db
    .insertInto("job")
    .values({ job_type: job.jobType, hostname: job.hostname, pid: job.pid, state: "running" })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Heartbeats a job by the database's clock. If the row is gone (cleaned while we were stalled)
 * it is inserted again under the same id, so the heartbeat is an upsert. Returns the row; its
 * state tells a component whether someone marked it failed meanwhile.
 */
export async function heartbeatJob(
  db: Executor,
  job: { id: number; jobType: string; hostname: string | null; pid: number | null },
): Promise<JobRow> {
  return db
    .insertInto("job")
    .values({ id: job.id, job_type: job.jobType, hostname: job.hostname, pid: job.pid, state: "running" })
    .onConflict((oc) => oc.column("id").doUpdateSet({ latest_heartbeat: sql<Date>`now()` }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Marks a job ended (state "success" or "failed"). */
export async function endJob(
  db: Executor,
  id: number,
  state: "success" | "failed" = "success",
): Promise<void> {
  await db
    .updateTable("job")
    .set({ state, end_date: sql<Date>`now()` })
    .where("id", "=", id)
    .execute();
}
