import { parseDuration, type Duration } from "../../common/duration.js";
import { UpdraftError } from "../../common/errors.js";
import type { ExecuteInput } from "../base-operator.js";
import type { TaskContext } from "../context.js";
import { MAPPED_VALUE, mappedOperator, type MappedBuilder } from "../mapping.js";
import { checkStates, isTransientApiError } from "../operators/control-common.js";
import { pick } from "../operators/sql.js";
import { DAG_RUN_STATES } from "../operators/trigger-dagrun.js";
import { TaskSkipped } from "../signals.js";
import { triggers, type TriggerSpec } from "../triggers.js";
import { BaseSensorOperator, type BaseSensorOptions } from "./base-sensor.js";

/** Task instance states (Airflow's TaskInstanceState; the SDK cannot import model/states.ts). */
export const TASK_INSTANCE_STATES = [
  "removed",
  "scheduled",
  "queued",
  "running",
  "success",
  "restarting",
  "failed",
  "up_for_retry",
  "up_for_reschedule",
  "upstream_failed",
  "skipped",
  "deferred",
] as const;

/** Options of {@link ExternalTaskSensor} (Airflow's arguments in camelCase). */
export interface ExternalTaskSensorOptions extends BaseSensorOptions {
  /** The DAG to watch; templated. */
  externalDagId: string;
  /** One task to wait for; templated. Without a task (or group) the sensor waits for the DAG run. */
  externalTaskId?: string | null;
  /** Several tasks to wait for; templated. */
  externalTaskIds?: readonly string[] | null;
  /** Every task of this task group (nested groups included); templated. */
  externalTaskGroupId?: string | null;
  /** States that mean done. Default `["success"]`. */
  allowedStates?: readonly string[];
  /** States that fail the sensor at once (any task in one). Default none. */
  failedStates?: readonly string[];
  /** States that skip the sensor (any task in one). Default none. */
  skippedStates?: readonly string[];
  /** Look at the run whose logical date is this much before this run's. */
  executionDelta?: Duration;
  /** The logical date(s) to look at, from this run's logical date and context. */
  executionDateFn?: (logicalDate: Date, ctx: TaskContext) => Date | string | readonly (Date | string)[];
  /** Fail at the first poke when the DAG or a task does not exist. Default false. */
  checkExistence?: boolean;
}

const FIELDS = [
  "externalDagId",
  "externalTaskId",
  "externalTaskIds",
  "externalTaskGroupId",
  "allowedStates",
  "failedStates",
  "skippedStates",
  "executionDelta",
  "checkExistence",
] as const;

type Mappable = "externalDagId" | "externalTaskId" | "externalTaskIds";

/** What one poke asks the server: the query a deferrable sensor's trigger would poll too. */
export interface ExternalTaskQuery {
  dagId: string;
  /** null: the DAG runs themselves. */
  taskIds: string[] | null;
  taskGroupId: string | null;
  logicalDates: Date[];
  allowedStates: string[];
  failedStates: string[];
  skippedStates: string[];
}

function given(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/**
 * Waits for tasks (or a task group, or a whole run) of another DAG to reach `allowedStates` for
 * the same logical date, or one shifted by `executionDelta` / computed by `executionDateFn`
 * (Airflow's `ExternalTaskSensor`). A task in `failedStates` fails the sensor (skips it with
 * softFail); one in `skippedStates` skips it.
 *
 * @example
 * ```ts
 * new ExternalTaskSensor({
 *   taskId: "wait_extract",
 *   externalDagId: "extract",
 *   externalTaskId: "load",
 *   executionDelta: "1h",
 *   failedStates: ["failed"],
 *   pokeInterval: "1m",
 * });
 * ```
 */
export class ExternalTaskSensor extends BaseSensorOperator {
  readonly operatorName = "ExternalTaskSensor";
  readonly templateFields = [
    "externalDagId",
    "externalTaskId",
    "externalTaskIds",
    "externalTaskGroupId",
  ] as const;
  static readonly mappableFields = ["externalDagId", "externalTaskId", "externalTaskIds"] as const;
  private readonly executionDeltaMs: number | null;
  /** Code, so kept on the instance rather than in the serialized fields. */
  private readonly executionDateFn: ExternalTaskSensorOptions["executionDateFn"];
  private checkedExistence = false;

  constructor(options: ExternalTaskSensorOptions) {
    const fields = pick(options, FIELDS);
    super(options, fields, [...FIELDS, "executionDateFn"]);
    this.executionDateFn = options.executionDateFn;
    const where = `ExternalTaskSensor "${options.taskId}"`;
    if (
      (options.externalDagId as unknown) !== MAPPED_VALUE &&
      (typeof options.externalDagId !== "string" || options.externalDagId.trim() === "")
    )
      throw new UpdraftError("INVALID_TASK", `${where}: give the DAG to watch in externalDagId.`);
    if (given(options.externalTaskId) && given(options.externalTaskIds))
      throw new UpdraftError("INVALID_TASK", `${where}: give externalTaskId or externalTaskIds, not both.`);
    if (
      given(options.externalTaskGroupId) &&
      (given(options.externalTaskId) || given(options.externalTaskIds))
    )
      throw new UpdraftError(
        "INVALID_TASK",
        `${where}: externalTaskGroupId cannot be combined with externalTaskId or externalTaskIds.`,
      );
    if (options.executionDelta !== undefined && options.executionDateFn !== undefined)
      throw new UpdraftError("INVALID_TASK", `${where}: give executionDelta or executionDateFn, not both.`);
    const onTasks =
      given(options.externalTaskId) || given(options.externalTaskIds) || given(options.externalTaskGroupId);
    const known: readonly string[] = onTasks ? TASK_INSTANCE_STATES : DAG_RUN_STATES;
    const allowed = options.allowedStates ?? ["success"];
    const failed = options.failedStates ?? [];
    const skipped = options.skippedStates ?? [];
    checkStates(where, "allowedStates", allowed, known);
    checkStates(where, "failedStates", failed, known);
    checkStates(where, "skippedStates", skipped, known);
    const overlap = allowed.filter((s) => failed.includes(s) || skipped.includes(s));
    if (overlap.length > 0)
      throw new UpdraftError(
        "INVALID_TASK",
        `${where}: ${overlap.join(", ")} is in allowedStates and in failedStates or skippedStates; a state can mean one thing only.`,
      );
    this.executionDeltaMs =
      options.executionDelta === undefined
        ? null
        : parseDuration(options.executionDelta, `${where}: executionDelta`);
    fields["allowedStates"] = [...allowed];
    fields["failedStates"] = [...failed];
    fields["skippedStates"] = [...skipped];
  }

  /**
   * Starts a mapped ExternalTaskSensor: one sensor per DAG or task.
   *
   * @example
   * ```ts
   * ExternalTaskSensor.partial({ taskId: "wait", externalDagId: "extract" }).expand({ externalTaskId: ["a", "b"] });
   * ```
   */
  static partial(
    options: Partial<ExternalTaskSensorOptions> & { taskId: string },
  ): MappedBuilder<ExternalTaskSensorOptions, Mappable> {
    return mappedOperator(ExternalTaskSensor, options, ExternalTaskSensor.mappableFields);
  }

  /** The logical dates to look at (Airflow's `_get_dttm_filter`). */
  logicalDates(ctx: TaskContext): Date[] {
    const fn = this.executionDateFn;
    if (fn !== undefined) {
      const out = fn(ctx.logical_date, ctx);
      const list = (Array.isArray(out) ? out : [out]) as (Date | string)[];
      return list.map((d) => {
        const date = d instanceof Date ? d : new Date(String(d));
        if (Number.isNaN(date.getTime()))
          throw new UpdraftError(
            "INVALID_TASK",
            `ExternalTaskSensor "${this.taskId}": executionDateFn returned ${JSON.stringify(d)}, which is not a date.`,
          );
        return date;
      });
    }
    return [new Date(ctx.logical_date.getTime() - (this.executionDeltaMs ?? 0))];
  }

  /** What to ask the server, from the rendered fields. */
  query(input: ExecuteInput): ExternalTaskQuery {
    const f = input.fields;
    const one = f["externalTaskId"];
    const many = f["externalTaskIds"];
    const group = f["externalTaskGroupId"];
    const taskIds = given(one) ? [String(one)] : Array.isArray(many) ? many.map(String) : null;
    return {
      dagId: String(f["externalDagId"]),
      taskIds,
      taskGroupId: given(group) ? String(group) : null,
      logicalDates: this.logicalDates(input.ctx),
      allowedStates: f["allowedStates"] as string[],
      failedStates: f["failedStates"] as string[],
      skippedStates: f["skippedStates"] as string[],
    };
  }

  protected override deferralRefusal(options: BaseSensorOptions): string | null {
    return given((options as ExternalTaskSensorOptions).externalTaskGroupId)
      ? "the external task trigger watches tasks or runs, not task groups (externalTaskGroupId)."
      : null;
  }

  /** The triggerer polls the same states: failed and skipped states both end its wait. */
  protected override trigger(input: ExecuteInput): TriggerSpec {
    const q = this.query(input);
    const common = {
      dagId: q.dagId,
      logicalDates: q.logicalDates.map((d) => d.toISOString()),
      allowedStates: q.allowedStates,
      failedStates: [...q.failedStates, ...q.skippedStates],
      pokeIntervalS: this.pokeIntervalMs / 1000,
    };
    return q.taskIds === null
      ? triggers.dagRunState(common)
      : triggers.externalTask({ ...common, taskIds: q.taskIds });
  }

  /** Resumed after the trigger fired: one last poke decides with the same rules (fail, skip or done). */
  override async executeComplete(input: ExecuteInput): Promise<unknown> {
    if (await this.poke(input)) return undefined;
    return super.executeComplete(input);
  }

  async poke(input: ExecuteInput): Promise<boolean> {
    try {
      return await this.pokeOnce(input);
    } catch (err) {
      // The API server restarting is "not yet", not a failure of the wait.
      if (!isTransientApiError(err)) throw err;
      console.log(`Could not read the states (${(err as Error).message}); trying again at the next poke.`);
      return false;
    }
  }

  private async pokeOnce(input: ExecuteInput): Promise<boolean> {
    const q = this.query(input);
    const what =
      q.taskGroupId !== null
        ? `task group "${q.taskGroupId}"`
        : q.taskIds !== null
          ? `task${q.taskIds.length === 1 ? "" : "s"} ${q.taskIds.map((t) => `"${t}"`).join(", ")}`
          : "the DAG run";
    const dates = q.logicalDates.map((d) => d.toISOString()).join(", ");
    console.log(`Poking for ${what} of DAG "${q.dagId}" at ${dates}.`);
    const count = (states: string[], checkExistence = false) =>
      input.ctx.dagRuns.countStates({
        dagId: q.dagId,
        ...(q.taskIds !== null ? { taskIds: q.taskIds } : {}),
        ...(q.taskGroupId !== null ? { taskGroupId: q.taskGroupId } : {}),
        logicalDates: q.logicalDates,
        states,
        checkExistence,
      });
    const checkExistence = this.fields["checkExistence"] === true && !this.checkedExistence;
    if (q.failedStates.length > 0) {
      const failed = await count(q.failedStates, checkExistence);
      this.checkedExistence = true;
      if (failed.any > 0) {
        const message = `${what === "the DAG run" ? "The run" : `Some of ${what}`} of DAG "${q.dagId}" at ${dates} ended in ${q.failedStates.join(" or ")}.`;
        if (this.softFail) throw new TaskSkipped(`${message} softFail: skipping.`);
        throw new UpdraftError("EXTERNAL_TASK_FAILED", message, {
          details: { dag_id: q.dagId, states: q.failedStates },
        });
      }
    }
    if (q.skippedStates.length > 0) {
      const skipped = await count(q.skippedStates, checkExistence && !this.checkedExistence);
      this.checkedExistence = true;
      if (skipped.any > 0)
        throw new TaskSkipped(
          `${what === "the DAG run" ? "The run" : `Some of ${what}`} of DAG "${q.dagId}" at ${dates} ended in ${q.skippedStates.join(" or ")}: skipping.`,
        );
    }
    const allowed = await count(q.allowedStates, checkExistence && !this.checkedExistence);
    this.checkedExistence = true;
    console.log(`${allowed.all} of ${allowed.expected} in ${q.allowedStates.join(" or ")}.`);
    return allowed.expected > 0 && allowed.all === allowed.expected;
  }
}
