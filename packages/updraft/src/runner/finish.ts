// The end of a try: the finish report (retried while the server cannot be reached, since a lost
// report would make the server time the try out), and callbacks, which run in the runner and can
// never change the recorded state.
import { isUpdraftError } from "../common/errors.js";
import type { FinishRequest } from "../model/execution-api.js";
import { API_CONFLICT, isTransient, type ExecutionApiClient } from "./api-client.js";
import type { LogLevel } from "./task-log.js";
import { formatUserError } from "./user-stack.js";

export type TryLog = (level: LogLevel, text: string) => void;

const FINISH_RETRY_DELAYS_MS = [200, 1000, 3000, 10_000];
/** A callback that takes longer is abandoned (and the process retired, since it may still run). */
export const CALLBACK_TIMEOUT_MS = 5 * 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Reports the try's end. Returns the recorded state, or null when the report was refused or never arrived. */
export async function finishWithRetry(
  client: ExecutionApiClient,
  request: FinishRequest,
  log: TryLog,
): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await client.finish(request)).state;
    } catch (err) {
      if (isUpdraftError(err, API_CONFLICT)) {
        log(
          "WARNING",
          "The API server refused the report (409): the try is no longer running (it timed out, was cleared, or was marked by hand). Nothing was changed.",
        );
        return null;
      }
      const delay = FINISH_RETRY_DELAYS_MS[attempt];
      if (!isTransient(err) || delay === undefined) {
        log(
          "ERROR",
          `Reporting the result failed: ${err instanceof Error ? err.message : String(err)}. The server will time the try out.`,
        );
        return null;
      }
      log(
        "WARNING",
        `Reporting the result failed (${err instanceof Error ? err.message : String(err)}); trying again in ${delay} ms.`,
      );
      await sleep(delay);
    }
  }
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
