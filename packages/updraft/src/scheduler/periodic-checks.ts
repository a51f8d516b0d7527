// The periodic pass's safety nets (decision 0008 §2, §6), every scheduler.scheduler_heartbeat_sec:
// lost heartbeats, stuck queues, trigger and dagrun timeouts, cleared tries whose runner went
// silent, and adoption of what schedulers that are gone left behind.
import type { Workload } from "../model/execution-api.js";
import type { SchedulerContext } from "./context.js";
import { adoptRunners } from "./adopt-runners.js";
import { timeOutDeferredTries } from "./deferrals.js";
import { emitExecutorMetrics, emitPoolMetrics } from "./emit-metrics.js";
import { adoptOrphans, reapQueuedTooLong, reapStaleHeartbeats, releaseRestarting } from "./reap.js";
import { checkRunningRuns } from "./run-checks.js";
import { dagCallbacks, traceRunEnds } from "./run-ends.js";

/** Runs the safety nets; returns how many tries were reaped and the callbacks to hand over. */
export async function periodicChecks(
  ctx: SchedulerContext,
  staleJobAfterS: number,
): Promise<{ reaped: number; callbacks: Workload[] }> {
  const callbacks: Workload[] = [];
  const reaped = await reapStaleHeartbeats(ctx);
  let reapedCount = reaped.reaped.length;
  // Tries whose runner stopped heartbeating: Airflow's zombies.
  if (reaped.reaped.length > 0) ctx.metrics.incr("zombies_killed", reaped.reaped.length);
  callbacks.push(...reaped.callbacks);
  reapedCount += (await reapQueuedTooLong(ctx)).length;
  // Scheduled here, they are queued by this same pass.
  await timeOutDeferredTries(ctx);
  await releaseRestarting(ctx);
  const checks = await checkRunningRuns(ctx);
  callbacks.push(...dagCallbacks(ctx.signer, checks.timedOut));
  for (const f of checks.timedOut)
    if (f.durationMs !== null)
      ctx.metrics.timing("dagrun.duration.failed", f.durationMs, { dag_id: f.dagId });
  traceRunEnds(ctx, checks.timedOut);
  // Every periodic pass (decision 0008 §2), so work queued by a dead scheduler waits at most
  // staleJobAfterS + one heartbeat.
  if (ctx.jobId !== null) await adoptFromGoneSchedulers(ctx, staleJobAfterS);
  emitExecutorMetrics(ctx);
  await emitPoolMetrics(ctx).catch((err: unknown) =>
    ctx.logger.warn({ err: String(err) }, "Reading pool metrics failed"),
  );
  return { reaped: reapedCount, callbacks };
}

/** Takes over the queued task instances and the runners of schedulers whose job ended or went stale. */
export async function adoptFromGoneSchedulers(ctx: SchedulerContext, staleJobAfterS: number): Promise<void> {
  const adopted = await adoptOrphans(ctx, staleJobAfterS);
  if (adopted.length > 0) {
    ctx.logger.info({ count: adopted.length }, "Adopted task instances queued by schedulers that are gone");
  }
  // Runners that outlive their scheduler (Pods): their executors take over those of gone ones.
  const runners = await adoptRunners(ctx);
  if (runners > 0) ctx.logger.info({ count: runners }, "Adopted runners of schedulers that are gone");
}
