// The outcome of a finish once its statement ran (services/finish-task-instance.ts): the answer to
// the runner, with the workload and start of a try handed over to it, and the scheduler's wake-up.
import type { Executor } from "../db/index.js";
import type { TaskInstanceState } from "../model/states.js";
import type { FinishInput, FinishOutcome, FinishResult, TiFinished } from "./finish-input.js";
import type { StatementRow } from "./finish-statement.js";
import { wakeEvent } from "./finish-wake.js";
import { handedOverXcoms } from "./finish-xcoms.js";
import { startResponse, type StartRow } from "./start-context.js";
import { taskWorkload } from "./workloads.js";

/** The outcome once the statements ran: the handed-over try's workload and start, the wake-up. */
export async function finished(
  db: Executor,
  input: FinishInput,
  state: TaskInstanceState,
  skipped: number,
  row: StatementRow,
  pending: readonly string[],
): Promise<FinishOutcome> {
  const { claims, req, plan, options } = input;
  let next: FinishResult["next"] = null;
  const handOver = options.handOver;
  if (
    plan !== undefined &&
    handOver !== undefined &&
    handOver !== null &&
    typeof row.next_task_id === "string"
  ) {
    const key = {
      dag_id: claims.ti.dag_id,
      // Another run of the DAG when no run of it can reach max_active_tasks (hand-over.ts).
      run_id: row.next_run_id ?? claims.ti.run_id,
      task_id: row.next_task_id,
      map_index: row.next_map_index ?? -1,
    };
    const refs = plan.xcomReferences(key.task_id);
    const xcoms = await handedOverXcoms(db, claims, req, key, refs, {
      xcoms: row.xcoms,
      complete: row.xcoms_complete,
    });
    const startRow: StartRow = { ...(row as unknown as StartRow), max_tries: row.next_max_tries ?? 0, xcoms };
    next = {
      workload: taskWorkload(handOver.signer, plan, key, row.next_try_number ?? 1, {
        priorityWeight: row.next_priority_weight ?? 1,
        queue: row.next_queue ?? "default",
      }),
      start: startResponse(plan, key, startRow, refs, handOver.heartbeatIntervalS),
    };
  }
  const wake =
    typeof row.wake_scheduled === "number" &&
    (row.wake_scheduled > 0 || row.wake_run_check === true || pending.length > 0)
      ? wakeEvent(claims, state, row.wake_scheduled, row.wake_run_check === true, pending)
      : null;
  const tail = row.wake_tail === true && row.wake_run_check !== true;
  return done(state, skipped, next, wake, typeof row.notified === "string", tail);
}

export function done(
  state: TaskInstanceState,
  skipped: number,
  next: FinishResult["next"],
  wake: TiFinished | null,
  notified: boolean,
  tail = false,
): FinishOutcome {
  return { kind: "done", result: { state, skipped, next }, wake, notified, tail };
}
