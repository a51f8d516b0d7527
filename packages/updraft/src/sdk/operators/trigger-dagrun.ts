import { parseDuration, type Duration } from "../../common/duration.js";
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import { MAPPED_VALUE, mappedOperator, type MappedBuilder } from "../mapping.js";
import type { TaskOptions } from "../options.js";
import { TaskSkipped } from "../signals.js";
import { triggers } from "../triggers.js";
import { abortableSleep, checkStates, isTransientApiError } from "./control-common.js";
import { pick } from "./sql.js";

/** The DAG run states (Airflow's DagRunState). */
export const DAG_RUN_STATES = ["queued", "running", "success", "failed"] as const;

/** Options of {@link TriggerDagRunOperator} (Airflow's arguments in camelCase). */
export interface TriggerDagRunOperatorOptions extends TaskOptions {
  taskId: string;
  /** The DAG to trigger; templated. */
  triggerDagId: string;
  /** The new run's id; templated. Default `manual__<logical date>`. */
  triggerRunId?: string;
  /** The run's conf (a JSON object, checked against the DAG's params); templated. */
  conf?: Record<string, unknown> | string;
  /** The run's logical date (ISO text or Date); templated. Default now. */
  logicalDate?: string | Date;
  /** When a run with that id or logical date exists, clear it so that it runs again. Default false. */
  resetDagRun?: boolean;
  /** Wait until the triggered run ends in `allowedStates` or `failedStates`. Default false. */
  waitForCompletion?: boolean;
  /** Time between checks of the triggered run while waiting. Default 60 s. */
  pokeInterval?: Duration;
  /** Run states that end the wait with success. Default `["success"]`. */
  allowedStates?: readonly string[];
  /** Run states that fail the task. Default `["failed"]`. */
  failedStates?: readonly string[];
  /**
   * With waitForCompletion: wait in the triggerer instead of holding a runner (needs
   * `updraft triggerer`, part of standalone). Default false.
   */
  deferrable?: boolean;
  /** Skip this task (instead of failing) when the run exists and resetDagRun is false. Default false. */
  skipWhenAlreadyExists?: boolean;
}

/** XCom keys Airflow's TriggerDagRunOperator pushes (XCOM_RUN_ID, XCOM_LOGICAL_DATE_ISO). */
export const XCOM_TRIGGER_RUN_ID = "trigger_run_id";
export const XCOM_TRIGGER_LOGICAL_DATE_ISO = "trigger_logical_date_iso";

const FIELDS = [
  "triggerDagId",
  "triggerRunId",
  "conf",
  "logicalDate",
  "resetDagRun",
  "waitForCompletion",
  "pokeInterval",
  "allowedStates",
  "failedStates",
  "skipWhenAlreadyExists",
  "deferrable",
] as const;

type Mappable = "triggerDagId" | "triggerRunId" | "conf" | "logicalDate";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Triggers a run of another DAG (Airflow's `TriggerDagRunOperator`), optionally waits for it to
 * end. Pushes the new run's id as XCom `trigger_run_id` (and returns it) and its logical date as
 * `trigger_logical_date_iso`. The run is recorded as triggered by this task in the audit log.
 *
 * @example
 * ```ts
 * new TriggerDagRunOperator({
 *   taskId: "run_report",
 *   triggerDagId: "report",
 *   conf: { day: "{{ ds }}" },
 *   waitForCompletion: true,
 *   pokeInterval: "30s",
 * });
 * ```
 */
export class TriggerDagRunOperator extends BaseOperator {
  readonly operatorName = "TriggerDagRunOperator";
  readonly templateFields = ["triggerDagId", "triggerRunId", "conf", "logicalDate"] as const;
  static readonly mappableFields = ["triggerDagId", "triggerRunId", "conf", "logicalDate"] as const;
  readonly pokeIntervalMs: number;

  constructor(options: TriggerDagRunOperatorOptions) {
    const fields = pick(options, FIELDS);
    super(options, fields, FIELDS);
    const where = `TriggerDagRunOperator "${options.taskId}"`;
    if (
      (options.triggerDagId as unknown) !== MAPPED_VALUE &&
      (typeof options.triggerDagId !== "string" || options.triggerDagId.trim() === "")
    )
      throw new UpdraftError("INVALID_TASK", `${where}: give the DAG to trigger in triggerDagId.`);
    this.pokeIntervalMs = parseDuration(options.pokeInterval ?? 60_000, `${where}: pokeInterval`);
    const allowed = options.allowedStates ?? ["success"];
    const failed = options.failedStates ?? ["failed"];
    checkStates(where, "allowedStates", allowed, DAG_RUN_STATES);
    checkStates(where, "failedStates", failed, DAG_RUN_STATES);
    fields["allowedStates"] = [...allowed];
    fields["failedStates"] = [...failed];
  }

  /**
   * Starts a mapped TriggerDagRunOperator: one trigger per conf (or DAG id, run id, logical date).
   *
   * @example
   * ```ts
   * TriggerDagRunOperator.partial({ taskId: "fan_out", triggerDagId: "load" }).expand({ conf: [{ part: 1 }, { part: 2 }] });
   * ```
   */
  static partial(
    options: Partial<TriggerDagRunOperatorOptions> & { taskId: string },
  ): MappedBuilder<TriggerDagRunOperatorOptions, Mappable> {
    return mappedOperator(TriggerDagRunOperator, options, TriggerDagRunOperator.mappableFields);
  }

  async execute({ ctx, fields, signal }: ExecuteInput): Promise<string> {
    const dagId = String(fields["triggerDagId"]);
    let conf: unknown = fields["conf"] ?? {};
    if (typeof conf === "string") {
      const text = conf;
      try {
        conf = JSON.parse(text) as unknown;
      } catch {
        throw new UpdraftError(
          "DAG_RUN_CONF_INVALID",
          `TriggerDagRunOperator "${this.taskId}": conf rendered to text that is not JSON: ${text.slice(0, 200)}. Give conf as an object.`,
        );
      }
    }
    if (!isPlainObject(conf))
      throw new UpdraftError(
        "DAG_RUN_CONF_INVALID",
        `TriggerDagRunOperator "${this.taskId}": conf must be an object, not ${Array.isArray(conf) ? "a list" : typeof conf}.`,
      );
    const runId = fields["triggerRunId"];
    const logical = fields["logicalDate"];
    let run;
    try {
      run = await ctx.dagRuns.trigger({
        dagId,
        conf,
        runId: typeof runId === "string" && runId !== "" ? runId : null,
        logicalDate:
          logical instanceof Date || (typeof logical === "string" && logical !== "") ? logical : null,
      });
      console.log(
        `Triggered DAG "${dagId}": run ${run.run_id} (logical date ${run.logical_date ?? "none"}).`,
      );
    } catch (err) {
      if (!(err instanceof UpdraftError) || err.code !== "DAG_RUN_EXISTS") throw err;
      const existing = err.details["run_id"];
      if (fields["resetDagRun"] === true && typeof existing === "string") {
        console.log(`DAG "${dagId}" already has run ${existing}: clearing it (resetDagRun).`);
        run = await ctx.dagRuns.clear(dagId, existing);
      } else if (fields["skipWhenAlreadyExists"] === true) {
        throw new TaskSkipped(`${err.message} Skipping (skipWhenAlreadyExists).`);
      } else {
        throw new UpdraftError(
          "DAG_RUN_EXISTS",
          `${err.message} Set resetDagRun: true to run it again, or skipWhenAlreadyExists: true to skip.`,
          { details: err.details },
        );
      }
    }
    await ctx.ti.xcomPush(XCOM_TRIGGER_RUN_ID, run.run_id);
    await ctx.ti.xcomPush(XCOM_TRIGGER_LOGICAL_DATE_ISO, run.logical_date);
    if (fields["waitForCompletion"] !== true) return run.run_id;

    const allowed = fields["allowedStates"] as string[];
    const failed = fields["failedStates"] as string[];
    if (fields["deferrable"] === true && !allowed.includes(run.state) && !failed.includes(run.state)) {
      console.log(`Deferring until DAG "${dagId}" run ${run.run_id} reaches ${allowed.join(" or ")}.`);
      return this.defer({
        trigger: triggers.dagRunState({
          dagId,
          runIds: [run.run_id],
          allowedStates: allowed,
          failedStates: failed,
          pokeIntervalS: this.pokeIntervalMs / 1000,
        }),
        method: "executeComplete",
        kwargs: { dagId, runId: run.run_id },
      });
    }
    for (;;) {
      console.log(
        `Waiting for DAG "${dagId}" run ${run.run_id} to reach ${allowed.join(" or ")} (now ${run.state}).`,
      );
      await abortableSleep(this.pokeIntervalMs, signal);
      try {
        run = await ctx.dagRuns.get(dagId, run.run_id);
      } catch (err) {
        if (!isTransientApiError(err)) throw err;
        console.log(`Could not read the run's state (${(err as Error).message}); trying again.`);
        continue;
      }
      if (failed.includes(run.state))
        throw new UpdraftError(
          "TRIGGERED_DAG_RUN_FAILED",
          `DAG "${dagId}" run ${run.run_id} ended ${run.state}, one of failedStates (${failed.join(", ")}).`,
          { details: { dag_id: dagId, run_id: run.run_id, state: run.state } },
        );
      if (allowed.includes(run.state)) {
        console.log(`DAG "${dagId}" run ${run.run_id} is ${run.state}.`);
        return run.run_id;
      }
    }
  }

  /** Where a deferred wait resumes: the triggered run's state decides, as in the poking wait. */
  async executeComplete({ ctx, fields, resume }: ExecuteInput): Promise<string> {
    const { dagId, runId } = (resume?.kwargs ?? {}) as { dagId: string; runId: string };
    const run = await ctx.dagRuns.get(dagId, runId);
    const allowed = fields["allowedStates"] as string[];
    const failed = fields["failedStates"] as string[];
    if (allowed.includes(run.state)) {
      console.log(`DAG "${dagId}" run ${run.run_id} is ${run.state}.`);
      return run.run_id;
    }
    throw new UpdraftError(
      "TRIGGERED_DAG_RUN_FAILED",
      `DAG "${dagId}" run ${run.run_id} ended ${run.state}${failed.includes(run.state) ? `, one of failedStates (${failed.join(", ")})` : ""}.`,
      { details: { dag_id: dagId, run_id: run.run_id, state: run.state } },
    );
  }
}
