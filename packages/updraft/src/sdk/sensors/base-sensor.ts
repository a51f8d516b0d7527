// Sensors: tasks that wait for a condition by calling `poke` until it holds (Airflow's
// BaseSensorOperator), in three ways (decision 0030): mode "poke" holds the slot and sleeps between
// pokes; mode "reschedule" ends the try as up_for_reschedule after a poke that is not done (the slot
// is freed, the scheduler queues it again at the reschedule date, the timeout counts from the first
// poke of the try); `deferrable: true` pokes once, then defers on the sensor's trigger so that the
// triggerer waits instead of a runner.
import { parseDuration, type Duration } from "../../common/duration.js";
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { TaskFailedNoRetry, TaskRescheduled, TaskSkipped } from "../signals.js";
import type { TriggerSpec } from "../triggers.js";
import { abortableSleep as sleep } from "../../common/abortable-sleep.js";

/** Options every sensor takes (Airflow's BaseSensorOperator arguments in camelCase). */
export interface BaseSensorOptions extends TaskOptions {
  taskId: string;
  /** Time between pokes. Default 60 s. */
  pokeInterval?: Duration;
  /** How long to wait in all before the task fails (without retries, as Airflow's AirflowSensorTimeout). Default 7 days. */
  timeout?: Duration;
  /** On timeout, end the task as skipped instead of failed. Default false. */
  softFail?: boolean;
  /** Double the wait after each poke (bounded by `maxWait`). Default false. */
  exponentialBackoff?: boolean;
  /** Upper bound of a wait with exponentialBackoff. */
  maxWait?: Duration;
  /**
   * `"poke"` (default): the try holds its slot while it waits. `"reschedule"`: the slot is freed
   * between pokes (state up_for_reschedule); suits long poke intervals.
   */
  mode?: "poke" | "reschedule";
  /** Wait in the triggerer instead of a runner (needs `updraft triggerer`, part of standalone). */
  deferrable?: boolean;
}

/** What `poke` may return instead of a boolean: done, and the value to push as XCom. */
export interface PokeReturnValue {
  isDone: boolean;
  xcomValue?: unknown;
}

export const SENSOR_OPTION_NAMES = [
  "pokeInterval",
  "timeout",
  "softFail",
  "exponentialBackoff",
  "maxWait",
  "mode",
  "deferrable",
] as const;

const DEFAULT_POKE_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 7 * 86_400_000;

/**
 * The base of sensors: subclasses implement `poke`, which returns true (or `{ isDone: true,
 * xcomValue }`) once the condition holds.
 *
 * @example
 * ```ts
 * class FlagSensor extends BaseSensorOperator {
 *   readonly operatorName = "FlagSensor";
 *   readonly templateFields = [] as const;
 *   constructor(o: BaseSensorOptions) { super(o, {}); }
 *   async poke() { return existsSync("/tmp/flag"); }
 * }
 * ```
 */
export abstract class BaseSensorOperator extends BaseOperator {
  readonly pokeIntervalMs: number;
  readonly timeoutMs: number;
  readonly softFail: boolean;
  readonly exponentialBackoff: boolean;
  readonly maxWaitMs: number | null;
  readonly mode: "poke" | "reschedule";
  readonly deferrable: boolean;

  protected constructor(
    options: BaseSensorOptions,
    fields: Record<string, unknown>,
    extraOptionNames: readonly string[] = [],
  ) {
    super(options, fields, [...SENSOR_OPTION_NAMES, ...extraOptionNames]);
    const where = `Sensor "${options.taskId}"`;
    const mode = options.mode ?? "poke";
    if (mode !== "poke" && mode !== "reschedule")
      throw new UpdraftError(
        "SENSOR_MODE_UNSUPPORTED",
        `${where}: mode "${String(mode)}" does not exist; use "poke" or "reschedule" (or deferrable: true).`,
      );
    this.mode = mode;
    this.deferrable = options.deferrable ?? false;
    const refusal = this.deferrable ? this.deferralRefusal(options) : null;
    if (refusal !== null)
      throw new UpdraftError(
        "SENSOR_MODE_UNSUPPORTED",
        `${where}: deferrable: true is not possible: ${refusal} Use mode "reschedule" to free the slot between pokes instead.`,
      );
    this.pokeIntervalMs = parseDuration(options.pokeInterval ?? DEFAULT_POKE_MS, `${where}: pokeInterval`);
    this.timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT_MS, `${where}: timeout`);
    this.softFail = options.softFail ?? false;
    this.exponentialBackoff = options.exponentialBackoff ?? false;
    this.maxWaitMs =
      options.maxWait === undefined ? null : parseDuration(options.maxWait, `${where}: maxWait`);
  }

  /** Checks the condition once. */
  abstract poke(input: ExecuteInput): Promise<boolean | PokeReturnValue>;

  /** The wait after poke number `n` (1-based): constant, or doubling with exponentialBackoff. */
  nextInterval(n: number): number {
    if (!this.exponentialBackoff) return this.pokeIntervalMs;
    const grown = this.pokeIntervalMs * 2 ** (n - 1);
    return Math.max(1, this.maxWaitMs === null ? grown : Math.min(grown, this.maxWaitMs));
  }

  /**
   * Why this sensor cannot defer with these options, or null when it can. Called from the
   * constructor (before the subclass's fields exist): decide from `options` only.
   */
  protected deferralRefusal(_options: BaseSensorOptions): string | null {
    return `${this.operatorName} has no trigger.`;
  }

  /** The trigger a deferrable sensor waits on (called with the rendered fields). */
  protected trigger(_input: ExecuteInput): TriggerSpec | Promise<TriggerSpec> {
    throw new UpdraftError("SENSOR_MODE_UNSUPPORTED", `${this.operatorName} has no trigger.`);
  }

  private timedOut(elapsedMs: number): Error {
    const message = `Sensor has timed out: it waited ${Math.round(elapsedMs / 1000)} s, more than its timeout of ${Math.round(this.timeoutMs / 1000)} s.`;
    return this.softFail ? new TaskSkipped(`${message} softFail: skipping.`) : new TaskFailedNoRetry(message);
  }

  /** A deferred sensor whose trigger timed out fails without retry (or skips with softFail). */
  override deferralTimedOut(message: string): Error {
    const text = `Sensor has timed out: ${message}`;
    return this.softFail ? new TaskSkipped(`${text} softFail: skipping.`) : new TaskFailedNoRetry(text);
  }

  async execute(input: ExecuteInput): Promise<unknown> {
    if (this.deferrable) return this.executeDeferrable(input);
    if (this.mode === "reschedule") return this.executeReschedule(input);
    return this.executePoke(input);
  }

  /** One poke; when not done, defer on the trigger for what is left of the timeout. */
  private async executeDeferrable(input: ExecuteInput): Promise<unknown> {
    const started = Date.now();
    const out = await this.poke(input);
    if (typeof out === "boolean" ? out : out.isDone) {
      console.log("Success criteria met at the first poke. Exiting.");
      return typeof out === "boolean" ? undefined : out.xcomValue;
    }
    const trigger = await this.trigger(input);
    console.log(`Not yet: deferring on ${trigger.classpath}.`);
    return this.defer({
      trigger,
      method: "executeComplete",
      timeout: Math.max(1, this.timeoutMs - (Date.now() - started)),
    });
  }

  /** Where a deferred sensor resumes: the trigger's event says done or failed. */
  executeComplete(input: ExecuteInput): Promise<unknown> {
    const event = (input.resume?.event ?? {}) as { status?: string; message?: string; xcomValue?: unknown };
    if (event.status === "success") {
      console.log("The trigger fired: success criteria met.");
      return Promise.resolve(event.xcomValue);
    }
    throw new UpdraftError(
      "SENSOR_TIMEOUT",
      `${this.operatorName} "${this.taskId}": the trigger reported ${event.status ?? "no status"}${event.message === undefined ? "" : `: ${event.message}`}`,
    );
  }

  /** One poke; when not done, end the try as up_for_reschedule (the slot is freed until then). */
  private async executeReschedule(input: ExecuteInput): Promise<unknown> {
    const firstPokeAt = input.reschedules?.firstPokeAt.getTime() ?? Date.now();
    const n = (input.reschedules?.count ?? 0) + 1;
    const out = await this.poke(input);
    if (typeof out === "boolean" ? out : out.isDone) {
      console.log(`Success criteria met after ${n} poke(s). Exiting.`);
      return typeof out === "boolean" ? undefined : out.xcomValue;
    }
    const elapsed = Date.now() - firstPokeAt;
    if (elapsed >= this.timeoutMs) throw this.timedOut(elapsed);
    const wait = Math.max(1, Math.min(this.nextInterval(n), this.timeoutMs - elapsed));
    const at = new Date(Date.now() + wait);
    console.log(`Poke ${n}: not yet; rescheduled for ${at.toISOString()}.`);
    throw new TaskRescheduled(at);
  }

  private async executePoke(input: ExecuteInput): Promise<unknown> {
    const started = Date.now();
    for (let n = 1; ; n++) {
      const out = await this.poke(input);
      const done = typeof out === "boolean" ? out : out.isDone;
      if (done) {
        console.log(`Success criteria met after ${n} poke(s). Exiting.`);
        return typeof out === "boolean" ? undefined : out.xcomValue;
      }
      const elapsed = Date.now() - started;
      if (elapsed >= this.timeoutMs) throw this.timedOut(elapsed);
      const wait = Math.min(this.nextInterval(n), this.timeoutMs - elapsed);
      console.log(`Poke ${n}: not yet; next poke in ${(wait / 1000).toFixed(wait < 10_000 ? 1 : 0)} s.`);
      await sleep(wait, input.signal);
    }
  }
}
