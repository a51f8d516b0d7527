// The line a task's log gets when its runner process dies during the try: whoever reads the log
// sees why the try ended without a word from the task itself.
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Workload } from "../../model/execution-api.js";
import { localLogPath } from "../../model/log-path.js";
import type { ExecutorLogger } from "../executor.js";

/** Appends why the runner died to the try's log (on this machine); a failure to write is logged. */
export function noteRunnerDeath(
  w: Workload,
  reason: string,
  env: NodeJS.ProcessEnv,
  logger: ExecutorLogger,
): void {
  const path = localLogPath(w.log_path, env);
  try {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(
      path,
      `${new Date().toISOString()} ERROR [executor] The runner process died during this try: ${reason}\n`,
    );
  } catch (err) {
    logger.warn(
      { path, err: err instanceof Error ? err.message : String(err) },
      "could not append to the task log",
    );
  }
}
