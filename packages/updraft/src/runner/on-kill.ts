import { formatDuration } from "../common/duration.js";
import { ON_KILL_TIMEOUT_MS, type BaseOperator } from "../sdk/base-operator.js";
import { errorSummary } from "./user-stack.js";

/**
 * The task's onKill (Airflow's on_kill) after an interruption, so that what it started elsewhere
 * (a Pod) is released before the runner reports and exits; bounded, its errors only logged.
 */
export async function callOnKill(
  task: BaseOperator,
  log: (level: "WARNING", message: string) => void,
): Promise<void> {
  if (task.onKill === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    Promise.resolve()
      .then(() => task.onKill?.())
      .then(
        () => "done" as const,
        (err: unknown) => {
          log("WARNING", `onKill failed: ${errorSummary(err)}`);
          return "failed" as const;
        },
      ),
    new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ON_KILL_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (outcome === "late")
    log("WARNING", `onKill did not finish within ${formatDuration(ON_KILL_TIMEOUT_MS)}; the runner goes on.`);
}
