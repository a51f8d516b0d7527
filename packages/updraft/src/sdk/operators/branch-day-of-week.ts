import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** Options of {@link BranchDayOfWeekOperator}. */
export interface BranchDayOfWeekOperatorOptions extends TaskOptions {
  taskId: string;
  /** Task (or group) id(s) to follow on one of `weekDay`. */
  followTaskIdsIfTrue: string | string[];
  /** Task (or group) id(s) to follow on other days. */
  followTaskIdsIfFalse: string | string[];
  /** `"Monday"` … `"Sunday"` (any case), or several. */
  weekDay: string | string[];
  /** Test the run's logical date instead of today (UTC). Default false, as Airflow. */
  useTaskLogicalDate?: boolean;
}

/**
 * Follows one branch on given days of the week and another on the rest, skipping the other
 * branch's direct downstream tasks (Airflow's `BranchDayOfWeekOperator`).
 *
 * @example
 * ```ts
 * new BranchDayOfWeekOperator({
 *   taskId: "weekend_or_not", weekDay: ["Saturday", "Sunday"],
 *   followTaskIdsIfTrue: "weekend_report", followTaskIdsIfFalse: "daily_report",
 * });
 * ```
 */
export class BranchDayOfWeekOperator extends BaseOperator {
  readonly operatorName = "BranchDayOfWeekOperator";
  readonly templateFields = [] as const;
  readonly kind = "branch" as const;
  private readonly days: Set<number>;

  constructor(options: BranchDayOfWeekOperatorOptions) {
    const { followTaskIdsIfTrue, followTaskIdsIfFalse, weekDay, useTaskLogicalDate } = options;
    const names = ["followTaskIdsIfTrue", "followTaskIdsIfFalse", "weekDay", "useTaskLogicalDate"];
    super(options, { followTaskIdsIfTrue, followTaskIdsIfFalse, weekDay, useTaskLogicalDate }, names);
    this.days = new Set(
      (Array.isArray(weekDay) ? weekDay : [weekDay]).map((d) => {
        const i = DAYS.indexOf(String(d).toLowerCase());
        if (i === -1)
          throw new UpdraftError(
            "INVALID_TASK",
            `BranchDayOfWeekOperator "${options.taskId}": weekDay ${JSON.stringify(d)} is not a day; use Monday … Sunday.`,
          );
        return i;
      }),
    );
  }

  execute({ ctx, fields }: ExecuteInput): Promise<string[]> {
    const when = fields.useTaskLogicalDate === true ? ctx.logical_date : new Date();
    const day = when.getUTCDay();
    const hit = this.days.has(day);
    const follow = hit ? fields.followTaskIdsIfTrue : fields.followTaskIdsIfFalse;
    console.log(
      `${DAYS[day]} (${fields.useTaskLogicalDate === true ? "logical date" : "today, UTC"}) is ${hit ? "" : "not "}one of the days: following ${JSON.stringify(follow)}.`,
    );
    return Promise.resolve((Array.isArray(follow) ? follow : [follow]).map(String));
  }
}
