import { BaseOperator } from "../base-operator.js";
import type { TaskOptions } from "../options.js";

/**
 * Does nothing. Useful as a start, join or placeholder; the scheduler marks it successful
 * without starting a runner.
 *
 * @example
 * ```ts
 * const start = new EmptyOperator({ taskId: "start" });
 * ```
 */
export class EmptyOperator extends BaseOperator {
  readonly operatorName = "EmptyOperator";
  readonly templateFields = [] as const;

  constructor(options: TaskOptions & { taskId: string }) {
    super(options, {});
  }

  async execute(): Promise<undefined> {
    return undefined;
  }
}
