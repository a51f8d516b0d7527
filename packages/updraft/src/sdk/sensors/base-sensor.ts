// Sensors: tasks that wait for a condition by calling `poke` until it holds (Airflow's
// BaseSensorOperator). Only mode "poke" exists today — the try holds its slot while it waits;
// "reschedule" and deferrable sensors need the triggerer (issue 13, later part) and are refused at
// DAG load with SENSOR_MODE_UNSUPPORTED rather than silently holding a slot.
import { parseDuration, type Duration } from "../../common/duration.js";
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { TaskFailedNoRetry, TaskSkipped } from "../signals.js";

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
  /** Only `"poke"` today: the try holds its worker slot while it waits. */
  mode?: "poke" | "reschedule";
  /** Not available yet (needs the triggerer): true is refused at DAG load. */
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

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

  protected constructor(
    options: BaseSensorOptions,
    fields: Record<string, unknown>,
    extraOptionNames: readonly string[] = [],
  ) {
    super(options, fields, [...SENSOR_OPTION_NAMES, ...extraOptionNames]);
    const where = `Sensor "${options.taskId}"`;
    if ((options.mode ?? "poke") !== "poke" || options.deferrable === true)
      throw new UpdraftError(
        "SENSOR_MODE_UNSUPPORTED",
        `${where}: ${options.deferrable === true ? "deferrable: true" : `mode "${String(options.mode)}"`} needs the triggerer, which Updraft does not have yet. Use mode "poke" (the default): the sensor holds its slot while it waits.`,
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

  async execute(input: ExecuteInput): Promise<unknown> {
    const started = Date.now();
    for (let n = 1; ; n++) {
      const out = await this.poke(input);
      const done = typeof out === "boolean" ? out : out.isDone;
      if (done) {
        console.log(`Success criteria met after ${n} poke(s). Exiting.`);
        return typeof out === "boolean" ? undefined : out.xcomValue;
      }
      const elapsed = Date.now() - started;
      if (elapsed >= this.timeoutMs) {
        const message = `Sensor has timed out: it waited ${Math.round(elapsed / 1000)} s, more than its timeout of ${Math.round(this.timeoutMs / 1000)} s.`;
        if (this.softFail) throw new TaskSkipped(`${message} softFail: skipping.`);
        throw new TaskFailedNoRetry(message);
      }
      const wait = Math.min(this.nextInterval(n), this.timeoutMs - elapsed);
      console.log(`Poke ${n}: not yet; next poke in ${(wait / 1000).toFixed(wait < 10_000 ? 1 : 0)} s.`);
      await sleep(wait, input.signal);
    }
  }
}
