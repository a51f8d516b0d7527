// The end of a try: the finish report (retried while the server cannot be reached, since a lost
// report would make the server time the try out), and callbacks, which run in the runner and can
// never change the recorded state.
import { isUpdraftError } from "../common/errors.js";
import type { FinishRequest, FinishResponse } from "../model/execution-api.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { TaskContext } from "../sdk/context.js";
import { API_CONFLICT, API_TOO_LARGE, isTransient, type ExecutionApiClient } from "./api-client.js";
import type { LogLevel } from "./task-log.js";
import { formatUserError } from "./user-stack.js";

export type TryLog = (level: LogLevel, text: string) => void;

/**
 * Waits between attempts of a finish that got no answer or a 5xx. The result must survive the API
 * server's restart (standalone restarted after a crash): a try whose end is never reported would
 * be timed out and run again. The try stays running meanwhile, so the restarted server accepts
 * the report as long as the heartbeat timeout has not given the try away (then the answer is 409).
 */
const FINISH_RETRY_DELAYS_MS = [200, 1000, 2000, 5000];
/** How long a finish is retried in all: past scheduler.task_instance_heartbeat_timeout (300 s by default). */
const FINISH_RETRY_FOR_MS = 10 * 60_000;
/** A callback that takes longer is abandoned (and the process retired, since it may still run). */
export const CALLBACK_TIMEOUT_MS = 5 * 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Reports the try's end. Returns what the server recorded (and the next try, if it handed one
 * over), or null when the report was refused or never arrived.
 */
export async function finishWithRetry(
  client: ExecutionApiClient,
  request: FinishRequest,
  log: TryLog,
): Promise<FinishResponse | null> {
  const deadline = Date.now() + FINISH_RETRY_FOR_MS;
  let req = request;
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.finish(req);
    } catch (err) {
      if (isUpdraftError(err, API_CONFLICT)) {
        log(
          "WARNING",
          "The API server refused the report (409): the try is no longer running (it timed out, was cleared, or was marked by hand). Nothing was changed.",
        );
        return null;
      }
      if (req.return_value !== undefined && isRefusedValue(err)) {
        // The return value could not be stored (too large, or not storable): the try fails with why.
        const detail =
          isUpdraftError(err) && typeof err.details["detail"] === "string"
            ? err.details["detail"]
            : String(err);
        log("ERROR", `Pushing the return value as XCom failed: ${detail}`);
        req = { state: "failed", error: `Pushing the return value as XCom failed: ${detail}` };
        continue;
      }
      const delay = FINISH_RETRY_DELAYS_MS[Math.min(attempt, FINISH_RETRY_DELAYS_MS.length - 1)] ?? 5000;
      if (!isTransient(err) || Date.now() + delay > deadline) {
        log(
          "ERROR",
          `Reporting the result failed: ${err instanceof Error ? err.message : String(err)}. The server will time the try out.`,
        );
        return null;
      }
      // Said once, then about once a minute while the server stays away.
      if (attempt < FINISH_RETRY_DELAYS_MS.length || attempt % 12 === 0) {
        log(
          "WARNING",
          `Reporting the result failed (${err instanceof Error ? err.message : String(err)}); trying again in ${delay} ms.`,
        );
      }
      await sleep(delay);
    }
  }
}

/** The server refused the return value itself (413 too large, or a value jsonb cannot hold). */
function isRefusedValue(err: unknown): boolean {
  if (isUpdraftError(err, API_TOO_LARGE)) return true;
  return (
    isUpdraftError(err) && err.details["status"] === 422 && /XCom/.test(String(err.details["detail"] ?? ""))
  );
}

/** Runs one user callback; a throw is logged and ignored. Returns "hung" when it overran its time limit. */
export async function runTaskCallback(
  name: string,
  fn: () => unknown,
  log: TryLog,
  timeoutMs = CALLBACK_TIMEOUT_MS,
): Promise<"ok" | "failed" | "hung"> {
  log("INFO", `Running ${name}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      Promise.resolve()
        .then(fn)
        .then(() => "ok" as const),
      new Promise<"hung">((resolve) => {
        timer = setTimeout(() => resolve("hung"), timeoutMs);
      }),
    ]);
    if (outcome === "hung")
      log("ERROR", `${name} did not finish within ${Math.round(timeoutMs / 1000)} s and was abandoned.`);
    return outcome;
  } catch (err) {
    log("ERROR", `${name} failed (the task's state is unchanged):\n${formatUserError(err)}`);
    return "failed";
  } finally {
    clearTimeout(timer);
  }
}

/** The task's callbacks, by the state the server records (none before the task is loaded). */
export function taskCallbacks(task: BaseOperator | undefined): {
  defined: boolean;
  forState(state: string): { name: string; call: (ctx: TaskContext) => unknown } | undefined;
} {
  const o = task?.options;
  const byState: Record<string, [string, ((ctx: TaskContext) => unknown) | undefined]> = {
    success: ["onSuccessCallback", o?.onSuccessCallback],
    failed: ["onFailureCallback", o?.onFailureCallback],
    up_for_retry: ["onRetryCallback", o?.onRetryCallback],
    // taskinstance.py _run_raw_task: on_skipped_callback runs when the task raised
    // AirflowSkipException while running; a skip decided by the scheduler never reaches a runner.
    skipped: ["onSkippedCallback", o?.onSkippedCallback],
  };
  return {
    defined: Object.values(byState).some(([, fn]) => fn !== undefined),
    forState(state) {
      const [name, fn] = byState[state] ?? ["", undefined];
      return fn === undefined ? undefined : { name, call: fn };
    },
  };
}
