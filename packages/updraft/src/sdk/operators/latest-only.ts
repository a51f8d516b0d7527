import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";

/**
 * Lets its downstream tasks run only in the latest scheduled run (Airflow's `LatestOnlyOperator`):
 * in a run whose next data interval has not begun to close yet — `data_interval_end ≤ now <
 * data_interval_end + (data_interval_end − data_interval_start)` — and in manual runs; in older
 * (catch-up, backfill) runs its direct downstream tasks are skipped.
 *
 * @example
 * ```ts
 * new LatestOnlyOperator({ taskId: "latest_only" }).before(notify);
 * ```
 */
export class LatestOnlyOperator extends BaseOperator {
  readonly operatorName = "LatestOnlyOperator";
  readonly templateFields = [] as const;
  /** The runner reports the result as the tasks to follow; the server skips the others. */
  readonly kind = "branch" as const;

  constructor(options: TaskOptions & { taskId: string }) {
    super(options, {});
  }

  execute({ ctx }: ExecuteInput): Promise<string[]> {
    const all = [...this.downstreamTaskIds];
    if (ctx.dag_run.run_type === "manual") {
      console.log("Manually triggered DAG run: continuing to the downstream tasks.");
      return Promise.resolve(all);
    }
    const start = ctx.data_interval_start.getTime();
    const end = ctx.data_interval_end.getTime();
    const now = Date.now();
    // The next run's interval, for a schedule of equal intervals (the approximation decision 0029 names).
    const left = end;
    const right = end + Math.max(end - start, 0);
    if (left < now && now <= right) {
      console.log(
        `Latest run (now ${new Date(now).toISOString()} is in (${new Date(left).toISOString()}, ${new Date(right).toISOString()}]): continuing.`,
      );
      return Promise.resolve(all);
    }
    console.log(
      `Not the latest run (now ${new Date(now).toISOString()} is outside (${new Date(left).toISOString()}, ${new Date(right).toISOString()}]): skipping the downstream tasks.`,
    );
    return Promise.resolve([]);
  }
}
