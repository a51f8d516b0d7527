// The one queuing path: what every executor takes now, handed to each. Slots are kept per
// executor (decision 0027): a full KubernetesExecutor never holds back LocalExecutor tasks, and
// core.parallelism still caps the total as Airflow 2.10's scheduler does.
import type { TaskInstanceKey } from "../model/execution-api.js";
import type { SchedulerContext } from "./context.js";
import { queueTaskInstances, type QueueBudget } from "./queue-task-instances.js";

export interface QueuePassResult {
  queued: number;
  /** Task instances failed because their pool does not exist (their runs need evaluating). */
  poolMissing: TaskInstanceKey[];
  /** The batch was cut by the budget with more waiting and slots still open: queue again now. */
  again: boolean;
}

/**
 * Open slots per executor, and the total: core.parallelism minus what all executors hold
 * (Airflow: `parallelism - sum(executor.slots_occupied)`), never more than their open slots.
 */
export function queueBudget(ctx: SchedulerContext): QueueBudget {
  const open = new Map<string, number>();
  let occupied = 0;
  let sum = 0;
  for (const e of ctx.executors.executors) {
    const n = Math.max(0, e.openSlots());
    open.set(e.name, n);
    sum += n;
    // One executor's open slots already leave room for what it holds (as before: no stats read).
    const stats = ctx.executors.size > 1 ? e.stats?.() : undefined;
    if (stats !== undefined) occupied += stats.queued + stats.busy;
  }
  const total = Math.max(0, Math.min(ctx.config.core.parallelism - occupied, sum));
  return { total, open, takesAll: ctx.executors.takesAll };
}

/** Queues what fits and hands each workload to its executor. */
export async function queuePass(ctx: SchedulerContext): Promise<QueuePassResult> {
  const budget = queueBudget(ctx);
  const t0 = performance.now();
  const queued = await queueTaskInstances(ctx, budget);
  if (ctx.metrics.enabled && budget.total > 0) {
    // The pools-locked transaction: Airflow's critical section.
    ctx.metrics.timing("scheduler.critical_section_duration", performance.now() - t0);
    let starving = 0;
    for (const [pool, n] of queued.starving) {
      starving += n;
      ctx.metrics.gauge("pool.starving_tasks", n, { pool });
    }
    ctx.metrics.gauge("scheduler.tasks.starving", starving);
  }
  queued.workloads.forEach((wl, i) => {
    const name = queued.executors[i]!;
    const executor = ctx.executors.get(name);
    // The claim reads only the executors of this set: a miss is a bug, and the queued try is
    // reaped after scheduler.task_queued_timeout rather than lost.
    if (executor === undefined)
      ctx.logger.error({ executor: name, ...wl.ti }, "No such executor for a queued try");
    else executor.queueWorkload(wl);
  });
  if (budget.total > 0)
    for (const e of ctx.executors.executors)
      if ((budget.open.get(e.name) ?? 0) > 0) e.demand?.(queued.waiting.get(e.name) ?? 0);
  const cut = queued.workloads.length >= budget.total;
  const stillOpen = queueBudget(ctx);
  return {
    queued: queued.workloads.length,
    poolMissing: queued.poolMissing,
    again: queued.more && cut && stillOpen.total > 0,
  };
}
