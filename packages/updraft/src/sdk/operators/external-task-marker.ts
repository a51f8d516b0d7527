import { UpdraftError } from "../../common/errors.js";
import { BaseOperator } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { pick } from "./sql.js";

/** Options of {@link ExternalTaskMarker} (Airflow's arguments in camelCase). */
export interface ExternalTaskMarkerOptions extends TaskOptions {
  taskId: string;
  /** The DAG whose task this marks; templated. */
  externalDagId: string;
  /** The task in that DAG cleared with this one; templated. */
  externalTaskId: string;
  /**
   * The logical date of the other DAG's run (ISO text or Date); templated with the run's dates
   * (`logical_date`, `ds`, `ts`, `data_interval_start`, `data_interval_end`, `run_id`, `params`).
   * Default `"{{ logical_date }}"`: the run with the same logical date.
   */
  logicalDate?: string | Date;
  /** Airflow 2's name for `logicalDate`. */
  executionDate?: string | Date;
  /** How many markers deep a clear may follow from this one. Default 10. */
  recursionDepth?: number;
}

/** The marker's operator name, which the clear service looks for in serialized DAGs. */
export const EXTERNAL_TASK_MARKER = "ExternalTaskMarker";

/**
 * Marks a task of another DAG that depends on this run (Airflow's `ExternalTaskMarker`, the
 * partner of an {@link ExternalTaskSensor} there). Running it does nothing; clearing it with
 * "downstream" also clears `externalTaskId` and its downstream tasks in the run of `externalDagId`
 * whose logical date is `logicalDate`, following further markers there up to `recursionDepth`.
 *
 * @example
 * ```ts
 * new ExternalTaskMarker({ taskId: "mark_report", externalDagId: "report", externalTaskId: "wait_for_load" });
 * ```
 */
export class ExternalTaskMarker extends BaseOperator {
  readonly operatorName = EXTERNAL_TASK_MARKER;
  readonly templateFields = ["externalDagId", "externalTaskId", "logicalDate"] as const;

  constructor(options: ExternalTaskMarkerOptions) {
    const fields = pick(options, ["externalDagId", "externalTaskId", "recursionDepth"]);
    super(options, fields, [
      "externalDagId",
      "externalTaskId",
      "logicalDate",
      "executionDate",
      "recursionDepth",
    ]);
    const where = `ExternalTaskMarker "${options.taskId}"`;
    for (const name of ["externalDagId", "externalTaskId"] as const) {
      const v = options[name] as unknown;
      if (typeof v !== "string" || v.trim() === "")
        throw new UpdraftError("INVALID_TASK", `${where}: give the marked task's ${name}.`);
    }
    if (options.logicalDate !== undefined && options.executionDate !== undefined)
      throw new UpdraftError(
        "INVALID_TASK",
        `${where}: give logicalDate or its old name executionDate, not both.`,
      );
    const date = options.logicalDate ?? options.executionDate ?? "{{ logical_date }}";
    if (!(date instanceof Date) && typeof date !== "string")
      throw new UpdraftError("INVALID_TASK", `${where}: logicalDate must be a Date or (templated) text.`);
    if (date instanceof Date && Number.isNaN(date.getTime()))
      throw new UpdraftError("INVALID_TASK", `${where}: logicalDate is an invalid Date.`);
    fields["logicalDate"] = date instanceof Date ? date.toISOString() : date;
    const depth = options.recursionDepth ?? 10;
    if (!Number.isInteger(depth) || depth < 1)
      throw new UpdraftError(
        "INVALID_TASK",
        `${where}: recursionDepth must be a whole number of at least 1 (got ${String(depth)}).`,
      );
    fields["recursionDepth"] = depth;
  }

  /** A marker does nothing when it runs: it matters only when it is cleared. */
  async execute(): Promise<undefined> {
    return undefined;
  }
}
