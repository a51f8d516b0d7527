import type { Executor } from "../executor.js";

export interface AuditEvent {
  event: string;
  owner?: string | null;
  dagId?: string | null;
  taskId?: string | null;
  runId?: string | null;
  mapIndex?: number | null;
  tryNumber?: number | null;
  /** Free text or JSON; never a secret. */
  extra?: string | null;
}

/** Appends one audit log entry, stamped with the database's now(). */
export async function addAuditLog(db: Executor, entry: AuditEvent): Promise<void> {
  await db
    .insertInto("log")
    .values({
      event: entry.event,
      owner: entry.owner ?? null,
      dag_id: entry.dagId ?? null,
      task_id: entry.taskId ?? null,
      run_id: entry.runId ?? null,
      map_index: entry.mapIndex ?? null,
      try_number: entry.tryNumber ?? null,
      extra: entry.extra ?? null,
    })
    .execute();
}
