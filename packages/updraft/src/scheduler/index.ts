/**
 * The scheduler: creates DAG runs from schedules, evaluates trigger rules, enforces pools and
 * concurrency, queues task instances to the executor, and settles lost work. It works from
 * serialized DAGs only and never runs user code (decision 0008).
 */
export { Scheduler } from "./scheduler.js";
export type { SchedulerOptions, PassSummary } from "./scheduler.js";
export type { SchedulerHooks, SchedulerLogger, SchedulerClock } from "./context.js";
export { createBackfill, backfillStatus } from "./backfill.js";
export type { CreateBackfillInput, BackfillCreated, BackfillStatus } from "./backfill.js";
export { requeueNotStarted } from "./reap.js";
