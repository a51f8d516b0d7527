// Runners that outlive their scheduler (Kubernetes Pods): each executor that has such runners
// takes over those of schedulers that are gone (decision 0008 §2). Every executor this scheduler
// runs is asked, so that the Pods of a gone scheduler are adopted whichever executor is default.
import type { SchedulerContext } from "./context.js";
import { goneSchedulers } from "./reap.js";

/** Asks every executor with `adopt` to take over gone schedulers' runners; returns how many. */
export async function adoptRunners(ctx: SchedulerContext): Promise<number> {
  if (ctx.jobId === null) return 0;
  const owner = String(ctx.jobId);
  let total = 0;
  for (const executor of ctx.executors.executors) {
    if (executor.adopt === undefined) continue;
    total += await executor
      .adopt(owner, (owners) => goneSchedulers(ctx, owners))
      .catch((err: unknown) => {
        ctx.logger.warn(
          { err: String(err), executor: executor.name },
          "Adopting the runners of gone schedulers failed",
        );
        return 0;
      });
  }
  return total;
}
