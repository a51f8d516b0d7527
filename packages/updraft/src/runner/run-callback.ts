// Runs a callback the scheduler sent (DAG success/failure, SLA miss, or a task callback for a try
// whose runner could not run it, e.g. after a crash). The scheduler never runs user code, so these
// come here. A callback token can only read: XCom, variables and connections work, reports do not.
import type { CallbackWorkload, StartResponse } from "../model/execution-api.js";
import type { TaskContext } from "../sdk/context.js";
import type { Dag } from "../sdk/dag.js";
import type { DeadlineAlert } from "../sdk/deadline.js";
import { isParam } from "../sdk/options.js";
import { ExecutionApiClient } from "./api-client.js";
import { closeHooks } from "../sdk/hooks.js";
import { buildContext } from "./context.js";
import { findDag } from "./dag-loader.js";
import { runTaskCallback, type TryLog } from "./finish.js";
import { SecretMasker } from "./masker.js";
import { enterTry, markProcessDirty } from "./process-guard.js";
import { captureInto, stopCapture } from "./stdio-capture.js";
import { TaskLog } from "./task-log.js";
import { formatUserError } from "./user-stack.js";

export interface CallbackOutcome {
  /** "success" when the callback returned, "failed" when it threw or could not be found/run. */
  state: "success" | "failed";
  dirty: boolean;
}

/** Airflow run ids carry the logical date: `scheduled__2026-01-01T00:00:00+00:00`. */
function logicalDateFromRunId(runId: string): string | null {
  const m = /^(?:scheduled|manual|backfill|asset_triggered|dataset_triggered)__(.+)$/.exec(runId);
  if (m === null || Number.isNaN(new Date(m[1] ?? "").getTime())) return null;
  return new Date(m[1] ?? "").toISOString();
}

/**
 * The execution API gives callback tokens no start response, so the context is rebuilt from what
 * the workload and the DAG file say: ids, the logical date in the run id, the DAG's default params.
 */
function callbackStart(w: CallbackWorkload, dag: Dag): { start: StartResponse; dateKnown: boolean } {
  const logical = logicalDateFromRunId(w.ti.run_id);
  const date = logical ?? new Date().toISOString();
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(dag.options.params ?? {})) params[k] = isParam(v) ? v.default : v;
  const runType = w.ti.run_id.split("__")[0];
  return {
    dateKnown: logical !== null,
    start: {
      dag_run: {
        dag_id: w.ti.dag_id,
        run_id: w.ti.run_id,
        run_type:
          runType === "scheduled" || runType === "backfill" || runType === "asset_triggered"
            ? runType
            : "manual",
        logical_date: date,
        data_interval_start: date,
        data_interval_end: date,
        start_date: null,
        conf: {},
      },
      params,
      max_tries: w.try_number,
      heartbeat_interval_s: 0,
    },
  };
}

export async function runCallback(
  w: CallbackWorkload,
  deps: { cacheDir?: string } = {},
): Promise<CallbackOutcome> {
  const masker = new SecretMasker();
  masker.add(w.token);
  const taskLog = new TaskLog(masker);
  const log: TryLog = (level, text) => taskLog.line(level, "runner", text);
  let dirty = false;
  const leaveTry = enterTry({
    interrupt: (i) => {
      dirty = true;
      markProcessDirty();
      log("ERROR", `The callback was interrupted (${i.kind}).`);
    },
  });
  taskLog.openInBackground(w.log_path);
  taskLog.confirm();
  captureInto(taskLog);
  try {
    log(
      "INFO",
      `Running ${w.callback} callback for ${w.ti.dag_id} (run ${w.ti.run_id}, task ${w.ti.task_id})${w.error ? `: ${w.error}` : ""}`,
    );
    const dag = await findDag(w.fileloc, w.ti.dag_id, deps.cacheDir);
    const client = new ExecutionApiClient(w.api_url, w.token);
    const { start, dateKnown } = callbackStart(w, dag);
    if (!dateKnown)
      log(
        "WARNING",
        `The run id "${w.ti.run_id}" does not carry a logical date: the context's dates are the current time.`,
      );
    const task = dag.getTask(w.ti.task_id) ?? null;
    const ctx: TaskContext = buildContext({
      ti: w.ti,
      tryNumber: w.try_number,
      start,
      dag,
      task,
      client,
      masker,
    });
    let fn: (() => unknown) | undefined;
    let name: string = w.callback;
    switch (w.callback) {
      case "dag_success":
        name = "the DAG's onSuccessCallback";
        if (dag.options.onSuccessCallback) fn = () => dag.options.onSuccessCallback?.(ctx);
        break;
      case "dag_failure":
        name = "the DAG's onFailureCallback";
        if (dag.options.onFailureCallback) fn = () => dag.options.onFailureCallback?.(ctx);
        break;
      case "sla_miss":
        name = "the DAG's slaMissCallback";
        if (dag.options.slaMissCallback)
          fn = () =>
            dag.options.slaMissCallback?.({
              dag_id: w.ti.dag_id,
              run_id: w.ti.run_id,
              task_ids: w.task_ids ?? [],
            });
        break;
      case "deadline_miss": {
        const index = w.deadline?.alert_index ?? 0;
        const alerts = dag.options.deadline;
        const alert =
          alerts === undefined
            ? undefined
            : Array.isArray(alerts)
              ? alerts[index]
              : index === 0
                ? alerts
                : undefined;
        name = `the DAG's deadline[${index}] callback`;
        const d = w.deadline;
        if (alert !== undefined && d !== undefined)
          fn = () =>
            (alert as DeadlineAlert).callback({
              dag_run: { dag_id: w.ti.dag_id, run_id: w.ti.run_id, logical_date: d.logical_date },
              deadline: {
                alert_index: d.alert_index,
                reference_type: d.reference_type,
                deadline_time: d.deadline_time,
              },
            });
        break;
      }
      case "on_success":
      case "on_failure":
      case "on_retry": {
        const opt =
          w.callback === "on_success"
            ? "onSuccessCallback"
            : w.callback === "on_failure"
              ? "onFailureCallback"
              : "onRetryCallback";
        name = `${opt} of task "${w.ti.task_id}"`;
        const cb = task?.options[opt];
        if (cb) fn = () => cb(ctx);
        break;
      }
    }
    if (fn === undefined) {
      log("WARNING", `${name} is not defined in ${w.fileloc} (any more): nothing to run.`);
      return { state: "success", dirty };
    }
    const outcome = await runTaskCallback(name, fn, log).finally(() => closeHooks(ctx.hooks));
    if (outcome === "hung") dirty = true;
    return { state: outcome === "ok" ? "success" : "failed", dirty };
  } catch (err) {
    log("ERROR", `The callback could not be run:\n${formatUserError(err)}`);
    return { state: "failed", dirty };
  } finally {
    stopCapture();
    leaveTry();
    await taskLog.close();
  }
}
