// Why a try was lost, where its user looks: the try's log (the last line they read) and the task
// instance's note (shown in the UI and the REST API beside the state). The executor knows why
// (an OOM kill, an image that cannot be pulled, a Pod evicted or pending too long), but executors
// never touch the database, so the scheduler writes both once it has failed the try.
import { appendFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { sql } from "kysely";
import { taskLogRelativePath } from "../model/log-path.js";
import type { EndedTry } from "../services/index.js";
import type { SchedulerContext } from "./context.js";

const NOTE_MAX = 1000;

function outcome(state: EndedTry["state"]): string {
  if (state === "up_for_retry") return "The try failed; the task will be retried (up_for_retry).";
  if (state === "scheduled") return "The try never started; it is scheduled again.";
  return `The task is ${state}.`;
}

/** Appends the reason to each reaped try's log and to its task instance's note (a user's note stays). */
export async function recordLostReason(
  ctx: SchedulerContext,
  reaped: readonly EndedTry[],
  reason: string,
): Promise<void> {
  for (const r of reaped) {
    const text = `The task's runner was lost: ${reason}`;
    const path = join(ctx.config.logging.base_log_folder, taskLogRelativePath(r, r.try_number));
    try {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, `${new Date().toISOString()} ERROR [scheduler] ${text}. ${outcome(r.state)}\n`);
    } catch (err) {
      ctx.logger.warn({ path, err: String(err) }, "Could not append the lost try's reason to its log");
    }
    const note = `Try ${r.try_number}: ${text}`.slice(0, NOTE_MAX);
    await sql`
      update task_instance set note = right(coalesce(nullif(note, '') || E'\n', '') || ${note}, ${NOTE_MAX}),
        updated_at = now()
      where dag_id = ${r.dag_id} and run_id = ${r.run_id} and task_id = ${r.task_id}
        and map_index = ${r.map_index}`.execute(ctx.db);
  }
}
