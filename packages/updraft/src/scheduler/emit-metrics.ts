// The scheduler's periodic gauges (Airflow's SchedulerJobRunner._emit_pool_metrics and the
// executor's heartbeat): pool slots and executor slots. Read once per periodic pass, never on the
// hot path, and only when metrics are on.
import { sql } from "kysely";
import type { SchedulerContext } from "./context.js";

interface PoolStats {
  pool: string;
  slots: number;
  queued: number;
  running: number;
  scheduled: number;
}

/** pool.open_slots / queued_slots / running_slots / scheduled_slots per pool. */
export async function emitPoolMetrics(ctx: SchedulerContext): Promise<void> {
  if (!ctx.metrics.enabled) return;
  const res = await sql<PoolStats>`
    select p.pool, p.slots,
      coalesce(sum(t.pool_slots) filter (where t.state = 'queued'), 0)::int as queued,
      coalesce(sum(t.pool_slots) filter (where t.state = 'running'), 0)::int as running,
      coalesce(sum(t.pool_slots) filter (where t.state = 'scheduled'), 0)::int as scheduled
    from pool p left join task_instance t on t.pool = p.pool and t.state in ('queued', 'running', 'scheduled')
    group by p.pool, p.slots`.execute(ctx.db);
  for (const p of res.rows) {
    const tags = { pool: p.pool };
    // An unlimited pool (-1) has as many open slots as the scheduler may run (Airflow reports inf).
    const open = p.slots === -1 ? ctx.config.core.parallelism : Math.max(0, p.slots - p.queued - p.running);
    ctx.metrics.gauge("pool.open_slots", open, tags);
    ctx.metrics.gauge("pool.queued_slots", p.queued, tags);
    ctx.metrics.gauge("pool.running_slots", p.running, tags);
    ctx.metrics.gauge("pool.scheduled_slots", p.scheduled, tags);
  }
}

/**
 * executor.open_slots / queued_tasks / running_tasks, as Airflow's BaseExecutor.heartbeat: the
 * totals of every executor, and each executor's own under its name appended, as Airflow 2.10
 * sends them when several run (`executor.open_slots.KubernetesExecutor`; none with one executor).
 */
export function emitExecutorMetrics(ctx: SchedulerContext): void {
  if (!ctx.metrics.enabled) return;
  const each = ctx.executors.size > 1;
  let open = 0;
  let queued = 0;
  let running = 0;
  let withStats = 0;
  for (const e of ctx.executors.executors) {
    const o = e.openSlots();
    open += o;
    if (each) ctx.metrics.gauge(`executor.open_slots.${e.name}`, o);
    const stats = e.stats?.();
    if (stats === undefined) continue;
    withStats++;
    queued += stats.queued;
    running += stats.busy;
    if (!each) continue;
    ctx.metrics.gauge(`executor.queued_tasks.${e.name}`, stats.queued);
    ctx.metrics.gauge(`executor.running_tasks.${e.name}`, stats.busy);
  }
  ctx.metrics.gauge("executor.open_slots", open);
  if (withStats > 0) {
    ctx.metrics.gauge("executor.queued_tasks", queued);
    ctx.metrics.gauge("executor.running_tasks", running);
  }
}
