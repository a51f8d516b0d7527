import type { TriggerSpec } from "./triggers.js";

/**
 * Throw from a task to end the try as `skipped` (Airflow's AirflowSkipException). Downstream
 * tasks then follow their trigger rules.
 *
 * @example
 * ```ts
 * task("maybe", (ctx) => { if (ctx.params.dryRun) throw new TaskSkipped("dry run"); });
 * ```
 */
export class TaskSkipped extends Error {
  override readonly name = "TaskSkipped";
}

/**
 * Throw from a task to fail it at once, without using the remaining retries (Airflow's
 * AirflowFailException).
 *
 * @example
 * ```ts
 * task("check", () => { if (!credentialsValid()) throw new TaskFailedNoRetry("bad credentials"); });
 * ```
 */
export class TaskFailedNoRetry extends Error {
  override readonly name = "TaskFailedNoRetry";
}

/** What a task asks for when it defers: a trigger to wait on, and how to resume. */
export interface DeferOptions {
  /** The trigger that wakes the task: one of `triggers.*`, or {@link userTrigger}. */
  trigger: TriggerSpec;
  /** The operator's method the runner calls with the event when the trigger fires. Default `"execute"`. */
  method?: string;
  /** Given back to `method` as `input.resume.kwargs` (JSON). */
  kwargs?: Record<string, unknown>;
  /** How long the trigger may wait before the task fails (ms or `"2h"`); none by default. */
  timeout?: number | string;
}

/**
 * Thrown by {@link BaseOperator.defer} (or `deferTask` in TaskFlow code): the try ends as
 * `deferred`, the runner exits and frees its slot, and the triggerer waits on the trigger.
 * Never catch it in task code.
 */
export class TaskDeferred extends Error {
  override readonly name = "TaskDeferred";
  constructor(readonly deferral: DeferOptions) {
    super(`The task deferred on ${deferral.trigger.classpath}.`);
  }
}

/**
 * Thrown by a sensor in mode "reschedule" whose poke was not done: the try ends as
 * `up_for_reschedule` and the scheduler queues it again at `rescheduleDate` (Airflow's
 * AirflowRescheduleException).
 */
export class TaskRescheduled extends Error {
  override readonly name = "TaskRescheduled";
  constructor(readonly rescheduleDate: Date) {
    super(`The task is rescheduled for ${rescheduleDate.toISOString()}.`);
  }
}

/**
 * Defers a TaskFlow task: throw what it returns. When the trigger fires, the task's function runs
 * again with the event as `ctx.trigger_event` (the try is not counted again).
 *
 * @example
 * ```ts
 * task("wait", (ctx) => {
 *   if (ctx.trigger_event === undefined) throw deferTask({ trigger: triggers.timeDelta("10m") });
 *   return ctx.trigger_event;
 * });
 * ```
 */
export function deferTask(options: Omit<DeferOptions, "method">): TaskDeferred {
  return new TaskDeferred({ ...options, method: "execute" });
}
