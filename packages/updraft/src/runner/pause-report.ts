// The report of a deferral or reschedule (decision 0030): this run of the try ends, the try does
// not, so no callbacks run. The request a TaskDeferred or TaskRescheduled signal becomes is
// resume.ts's; this sends it.
import type { TaskWorkload } from "../model/execution-api.js";
import { isTransient, type ExecutionApiClient } from "./api-client.js";
import type { TryLog } from "./finish.js";
import type { PauseRequest } from "./resume.js";
import { errorSummary } from "./user-stack.js";

/**
 * Reports the pause; returns the state the server recorded, or null when nothing was recorded: a
 * refusal (409) or a server that stays unreachable. The server's timeouts then decide.
 */
export async function reportPause(
  client: ExecutionApiClient,
  w: TaskWorkload,
  p: PauseRequest,
  log: TryLog,
): Promise<{ state: string } | null> {
  const what =
    p.kind === "defer"
      ? `DEFERRED on ${p.body.classpath}`
      : `UP_FOR_RESCHEDULE until ${p.body.reschedule_date}`;
  log(
    "INFO",
    `Pausing task as ${what}. dag_id=${w.ti.dag_id}, task_id=${w.ti.task_id}, run_id=${w.ti.run_id}, map_index=${w.ti.map_index}, try_number=${w.try_number}`,
  );
  for (let attempt = 0; ; attempt++) {
    try {
      return p.kind === "defer" ? await client.defer(p.body) : await client.reschedule(p.body);
    } catch (err) {
      if (!isTransient(err) || attempt >= 4) {
        log("ERROR", `The API server did not record the ${p.kind}: ${errorSummary(err)}`);
        return null;
      }
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}
