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
