/**
 * The 13 trigger rules of Airflow 2: when a task may run, given the states of its direct upstream
 * tasks. The default is `all_success`.
 *
 * @example
 * ```ts
 * const cleanup = task({ taskId: "cleanup", triggerRule: TriggerRule.ALL_DONE }, () => removeTempFiles());
 * ```
 */
export const TriggerRule = {
  ALL_SUCCESS: "all_success",
  ALL_FAILED: "all_failed",
  ALL_DONE: "all_done",
  ALL_DONE_MIN_ONE_SUCCESS: "all_done_min_one_success",
  ALL_DONE_SETUP_SUCCESS: "all_done_setup_success",
  ONE_SUCCESS: "one_success",
  ONE_FAILED: "one_failed",
  ONE_DONE: "one_done",
  NONE_FAILED: "none_failed",
  NONE_SKIPPED: "none_skipped",
  NONE_FAILED_MIN_ONE_SUCCESS: "none_failed_min_one_success",
  ALL_SKIPPED: "all_skipped",
  ALWAYS: "always",
} as const;

/** One of the 13 trigger rule names, e.g. `"all_success"`. */
export type TriggerRule = (typeof TriggerRule)[keyof typeof TriggerRule];

/** Every trigger rule name, in declaration order. */
export const TRIGGER_RULES: readonly TriggerRule[] = Object.values(TriggerRule);

/**
 * How a task's effective priority is computed from its own `priorityWeight`:
 * `downstream` (default) adds the weights of all downstream tasks, `upstream` of all upstream
 * tasks, `absolute` uses the task's own weight.
 *
 * @example
 * ```ts
 * new EmptyOperator({ taskId: "urgent", priorityWeight: 100, weightRule: WeightRule.ABSOLUTE });
 * ```
 */
export const WeightRule = { DOWNSTREAM: "downstream", UPSTREAM: "upstream", ABSOLUTE: "absolute" } as const;
/** One of `"downstream" | "upstream" | "absolute"`. */
export type WeightRule = (typeof WeightRule)[keyof typeof WeightRule];
