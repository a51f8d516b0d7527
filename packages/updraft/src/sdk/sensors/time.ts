import { parseDuration, type Duration } from "../../common/duration.js";
import { UpdraftError } from "../../common/errors.js";
import type { ExecuteInput } from "../base-operator.js";
import { pick } from "../operators/sql.js";
import { triggers, type TriggerSpec } from "../triggers.js";
import { BaseSensorOperator, type BaseSensorOptions } from "./base-sensor.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link DateTimeSensor}. */
export interface DateTimeSensorOptions extends BaseSensorOptions {
  /** When to succeed: a Date or an ISO 8601 text (templated, e.g. `"{{ data_interval_end }}"`). */
  targetTime: string | Date;
}

function toDate(v: unknown, taskId: string): Date {
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime()))
    throw new UpdraftError(
      "INVALID_TASK",
      `DateTimeSensor "${taskId}": targetTime ${JSON.stringify(v)} is not a date; give an ISO 8601 text or a Date.`,
    );
  return d;
}

/**
 * Waits until a point in time (Airflow's `DateTimeSensor`).
 *
 * @example
 * ```ts
 * new DateTimeSensor({ taskId: "wait_6am", targetTime: "{{ ds }}T06:00:00Z", pokeInterval: "1m" });
 * ```
 */
export class DateTimeSensor extends BaseSensorOperator {
  readonly operatorName = "DateTimeSensor";
  static readonly mappableFields = ["targetTime"] as const;

  /**
   * Starts a mapped DateTimeSensor: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * DateTimeSensor.partial({ taskId: "wait" }).expand({ targetTime: ["{{ ds }}T06:00:00Z", "{{ ds }}T18:00:00Z"] });
   * ```
   */
  static partial(
    options: Partial<DateTimeSensorOptions> & { taskId: string },
  ): MappedBuilder<DateTimeSensorOptions, "targetTime"> {
    return mappedOperator(DateTimeSensor, options, DateTimeSensor.mappableFields);
  }
  readonly templateFields = ["targetTime"] as const;
  constructor(options: DateTimeSensorOptions) {
    const targetTime =
      options.targetTime instanceof Date ? options.targetTime.toISOString() : options.targetTime;
    super(options, { targetTime }, ["targetTime"]);
  }
  protected override deferralRefusal(): string | null {
    return null;
  }
  protected override trigger(input: ExecuteInput): TriggerSpec {
    return triggers.dateTime(toDate(input.fields.targetTime, this.taskId));
  }
  poke(input: ExecuteInput): Promise<boolean> {
    const target = toDate(input.fields.targetTime, this.taskId);
    console.log(`Checking if the time (${new Date().toISOString()}) has come (${target.toISOString()})`);
    return Promise.resolve(Date.now() >= target.getTime());
  }
}

/** Options of {@link TimeDeltaSensor}. */
export interface TimeDeltaSensorOptions extends BaseSensorOptions {
  /** How long after the run's data interval end to wait (`"2h"`, ms). */
  delta: Duration;
}

/**
 * Waits until `delta` after the run's data interval end (Airflow's `TimeDeltaSensor`).
 *
 * @example
 * ```ts
 * new TimeDeltaSensor({ taskId: "settle", delta: "30m" });
 * ```
 */
export class TimeDeltaSensor extends BaseSensorOperator {
  readonly operatorName = "TimeDeltaSensor";
  readonly templateFields = [] as const;
  readonly deltaMs: number;
  constructor(options: TimeDeltaSensorOptions) {
    super(options, pick(options, ["delta"]), ["delta"]);
    this.deltaMs = parseDuration(options.delta, `TimeDeltaSensor "${options.taskId}": delta`);
  }
  protected override deferralRefusal(): string | null {
    return null;
  }
  protected override trigger(input: ExecuteInput): TriggerSpec {
    return triggers.dateTime(new Date(input.ctx.data_interval_end.getTime() + this.deltaMs));
  }
  poke(input: ExecuteInput): Promise<boolean> {
    const target = input.ctx.data_interval_end.getTime() + this.deltaMs;
    console.log(
      `Checking if the time (${new Date().toISOString()}) has come (${new Date(target).toISOString()})`,
    );
    return Promise.resolve(Date.now() > target);
  }
}
