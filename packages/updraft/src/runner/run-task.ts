// The whole life of one try inside a runner process: load the DAG, start, build the context,
// resolve and render the fields, run `execute` under heartbeats and a timeout, push the XCom,
// finish, run the task's callbacks. Only the execution API is touched (ARCHITECTURE.md boundary 2).
import { formatDuration } from "../common/duration.js";
import { UpdraftError, isUpdraftError } from "../common/errors.js";
import type { FinishRequest, StartResponse, TaskWorkload } from "../model/execution-api.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { TaskContext } from "../sdk/context.js";
import type { Dag } from "../sdk/dag.js";
import { TaskFailedNoRetry, TaskSkipped } from "../sdk/signals.js";
import { API_CONFLICT, ExecutionApiClient } from "./api-client.js";
import {
  HOSTNAME,
  XComReader,
  buildContext,
  readConnection,
  readVariable,
  type ContextInput,
} from "./context.js";
import { findTask } from "./dag-loader.js";
import { finishWithRetry, runTaskCallback, type TryLog } from "./finish.js";
import { startHeartbeat } from "./heartbeat.js";
import { SecretMasker } from "./masker.js";
import { enterTry, markProcessDirty, type Interrupt } from "./process-guard.js";
import { resolveFields, templateSources } from "./resolve-fields.js";
import { captureInto, realStderr, stopCapture } from "./stdio-capture.js";
import { TaskLog } from "./task-log.js";
import { renderTemplate, templateNeeds, templateScope } from "./templates.js";
import { errorSummary, formatUserError } from "./user-stack.js";

/** XComs above this size are logged with a warning: the metadata database is no blob store. */
export const XCOM_WARN_BYTES = 48 * 1024;
/** Rendered fields longer than this are cut in the rendered-fields record, as Airflow does. */
const MAX_RENDERED_FIELD_CHARS = 4096;

export interface RunTaskDeps {
  /** Transpiled DAG cache; default `$UPDRAFT_HOME/cache/dags`. */
  cacheDir?: string;
  /** `performance.now()` when the workload arrived, for the overhead figure. */
  receivedAt?: number;
  pid?: number;
  hostname?: string;
}

export interface TryOutcome {
  /** The state the server recorded, or null when this runner recorded nothing (start refused, try given away). */
  state: string | null;
  /** User code may still be running, or the process saw a failure: do not reuse it. */
  dirty: boolean;
  /** Milliseconds from arrival of the workload to the server's answer to `finish`. */
  totalMs: number;
}

type Loaded = { ok: true; dag: Dag; task: BaseOperator } | { ok: false; error: unknown };

function interruptMessage(i: Interrupt): string {
  switch (i.kind) {
    case "timeout":
      return `Task exceeded its execution timeout of ${formatDuration(i.timeoutMs)}.`;
    case "exit":
      return `The task called process.exit(${i.code}); a task must return or throw instead.`;
    case "uncaught":
      return `An error escaped the task (uncaught exception or unhandled rejection): ${errorSummary(i.error)}`;
    case "terminated":
      return `The runner received ${i.signal} and stopped the task.`;
    case "conflict":
      return "The API server no longer considers this try running (heartbeat refused with 409): the task was stopped and nothing is reported.";
    case "api_lost":
      return `The runner lost contact with the API server (${errorSummary(i.error)}): the task was stopped; the server will time the try out.`;
  }
}

/** The branch's chosen ids, checked against the direct downstream tasks (a group id means its roots). */
function followIds(dag: Dag, task: BaseOperator, result: unknown): string[] {
  const raw = result === null || result === undefined ? [] : Array.isArray(result) ? result : [result];
  const ids: string[] = [];
  for (const r of raw) {
    if (typeof r !== "string") {
      throw new UpdraftError(
        "INVALID_BRANCH_RESULT",
        `Branch task "${task.taskId}" must return a task id, a list of task ids, or null; got ${JSON.stringify(r)}.`,
      );
    }
    const group = dag.groups.get(r);
    if (group !== undefined && !task.downstreamTaskIds.has(r)) {
      ids.push(
        ...group
          .roots()
          .map((t) => t.taskId)
          .filter((id) => task.downstreamTaskIds.has(id)),
      );
    } else ids.push(r);
  }
  const invalid = ids.filter((id) => !task.downstreamTaskIds.has(id));
  if (invalid.length > 0) {
    throw new UpdraftError(
      "INVALID_BRANCH_RESULT",
      `Branch task "${task.taskId}" returned ${invalid.map((i) => `"${i}"`).join(", ")}, which ${invalid.length > 1 ? "are not direct downstream tasks" : "is not a direct downstream task"}. Direct downstream tasks: ${[...task.downstreamTaskIds].join(", ") || "none"}.`,
    );
  }
  return [...new Set(ids)];
}

function truncateRendered(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    let text: string | undefined;
    try {
      text = JSON.stringify(v);
    } catch {
      text = undefined;
    }
    if (text === undefined) out[k] = String(v);
    else if (text.length > MAX_RENDERED_FIELD_CHARS) {
      out[k] = `${text.slice(0, MAX_RENDERED_FIELD_CHARS)}… (truncated: ${text.length} characters)`;
    } else out[k] = v;
  }
  return out;
}

/** Nothing worth recording (e.g. a TaskFlow task without arguments): skip the request. */
function allEmpty(fields: Record<string, unknown>): boolean {
  return Object.values(fields).every(
    (v) =>
      v === undefined ||
      v === null ||
      (Array.isArray(v) && v.length === 0) ||
      (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0),
  );
}

function isSignal(err: unknown, cls: typeof TaskSkipped | typeof TaskFailedNoRetry): boolean {
  return err instanceof cls || (err instanceof Error && err.name === cls.name);
}

/** Builds the finish request of a try that ended with `result` (success path). */
async function successRequest(
  w: TaskWorkload,
  dag: Dag,
  task: BaseOperator,
  result: unknown,
  client: ExecutionApiClient,
  log: TryLog,
): Promise<FinishRequest> {
  const req: FinishRequest = { state: "success" };
  const kind = (task as { kind?: unknown }).kind;
  if (kind === "branch") req.follow_task_ids = followIds(dag, task, result);
  if (kind === "short_circuit") {
    req.skip_downstream = !result;
    if (!result) log("INFO", `Condition result is ${JSON.stringify(result)}: skipping all downstream tasks.`);
  }
  if (task.options.doXcomPush !== false && result !== undefined) {
    let text: string | undefined;
    try {
      text = JSON.stringify(result);
    } catch (err) {
      throw new UpdraftError(
        "XCOM_NOT_SERIALIZABLE",
        `The return value of task "${w.ti.task_id}" cannot be stored as XCom: ${err instanceof Error ? err.message : String(err)}. Return plain JSON data, or set doXcomPush: false.`,
      );
    }
    if (text === undefined) {
      throw new UpdraftError(
        "XCOM_NOT_SERIALIZABLE",
        `The return value of task "${w.ti.task_id}" is a ${typeof result}, which cannot be stored as XCom. Return plain JSON data, or set doXcomPush: false.`,
      );
    }
    const bytes = Buffer.byteLength(text);
    if (bytes > XCOM_WARN_BYTES) {
      log(
        "WARNING",
        `The return value is ${(bytes / 1024).toFixed(1)} KB of JSON, above ${XCOM_WARN_BYTES / 1024} KB. XComs live in the metadata database: store large data elsewhere (object storage, a table) and return a reference.`,
      );
    }
    try {
      await client.xcomPush("return_value", JSON.parse(text) as unknown);
    } catch (err) {
      // The server's message (e.g. 413 naming the size and the limit) is the task's error.
      const detail =
        isUpdraftError(err) && typeof err.details["detail"] === "string"
          ? err.details["detail"]
          : errorSummary(err);
      throw new UpdraftError("XCOM_PUSH_FAILED", `Pushing the return value as XCom failed: ${detail}`, {
        cause: err,
      });
    }
    if (Array.isArray(result)) req.return_value_length = result.length;
  }
  return req;
}

/**
 * Runs one try of `workload` in this process. Resolves when the try is over (reported, or given
 * up); never rejects for task failures.
 */
export async function runTask(workload: TaskWorkload, deps: RunTaskDeps = {}): Promise<TryOutcome> {
  const t0 = deps.receivedAt ?? performance.now();
  const pid = deps.pid ?? process.pid;
  const hostname = deps.hostname ?? HOSTNAME;
  const w = workload;
  const client = new ExecutionApiClient(w.api_url, w.token);
  // The start request leaves first; everything else is prepared while it is in flight.
  const starting = client.start({ hostname, pid }).then(
    (response) => ({ ok: true as const, response }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const masker = new SecretMasker();
  masker.add(w.token);
  const taskLog = new TaskLog(masker);
  const log: TryLog = (level, text) => taskLog.line(level, "runner", text);

  // Interrupts (timeout, process.exit, heartbeat 409…) end the try at once, whatever the task does.
  const abort = new AbortController();
  let interrupted: Interrupt | null = null;
  let onInterrupt: (i: Interrupt) => void = () => undefined;
  const interruption = new Promise<Interrupt>((resolve) => (onInterrupt = resolve));
  const interrupt = (i: Interrupt) => {
    if (interrupted !== null) return;
    interrupted = i;
    abort.abort(new UpdraftError("TASK_INTERRUPTED", interruptMessage(i)));
    onInterrupt(i);
  };
  const leaveTry = enterTry({ interrupt });
  taskLog.openInBackground(w.log_path);
  captureInto(taskLog);

  let stopHeartbeat = () => undefined as void;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let dirty = false;
  try {
    // Importing the DAG file overlaps the start request; its output is held until the try is ours.
    const loading: Promise<Loaded> = findTask(w.fileloc, w.ti.dag_id, w.ti.task_id, deps.cacheDir).then(
      (found) => ({ ok: true as const, ...found }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const started = await starting;
    if (!started.ok) {
      const err = started.error;
      await loading;
      await taskLog.discard();
      const why = isUpdraftError(err, API_CONFLICT)
        ? "another runner owns it or it is no longer queued (start refused with 409); nothing was run"
        : `start failed: ${errorSummary(err)}`;
      realStderr.write(
        `${new Date().toISOString()} WARNING [runner] Try ${w.try_number} of ${w.ti.dag_id}.${w.ti.task_id} (run ${w.ti.run_id}, map_index ${w.ti.map_index}): ${why}.\n`,
      );
      return { state: null, dirty: false, totalMs: performance.now() - t0 };
    }
    const start: StartResponse = started.response;
    for (const s of start.mask_secrets ?? []) masker.add(s);
    taskLog.confirm();
    log("INFO", `Starting attempt ${w.try_number} of ${start.max_tries}`);
    log(
      "INFO",
      `Running ${w.ti.dag_id}.${w.ti.task_id} (run ${w.ti.run_id}${w.ti.map_index >= 0 ? `, map_index ${w.ti.map_index}` : ""}) on ${hostname}, pid ${pid}`,
    );
    stopHeartbeat = startHeartbeat({
      client,
      intervalS: start.heartbeat_interval_s,
      pid,
      hostname,
      interrupt,
      warn: (m) => log("WARNING", m),
    });

    let ctx: TaskContext | null = null;
    let loaded: Loaded | null = null;
    const body = async (): Promise<FinishRequest> => {
      loaded = await loading;
      if (!loaded.ok) throw loaded.error;
      const { dag, task } = loaded;
      const input: ContextInput = { ti: w.ti, tryNumber: w.try_number, start, dag, task, client, masker };
      ctx = buildContext(input);
      const reader = new XComReader(input);
      // Template lookups are synchronous: fetch the variables and connections templates name first.
      const sources = templateSources(task);
      let scope: Record<string, unknown> | null = null;
      if (sources.length > 0) {
        const needs = templateNeeds(sources);
        const variables = new Map<string, string>();
        const connections = new Map<string, Awaited<ReturnType<typeof readConnection>> & object>();
        await Promise.all([
          ...[...needs.variables].map(async (k) => {
            const v = await readVariable(input, k);
            if (v !== undefined) variables.set(k, v);
          }),
          ...[...needs.connections].map(async (k) => {
            const c = await readConnection(input, k);
            if (c !== undefined) connections.set(k, c);
          }),
        ]);
        scope = templateScope(ctx, variables, connections);
      }
      const resolved = await resolveFields(
        task,
        w.ti.map_index,
        { pull: (taskId, key) => reader.pull(taskId, key) },
        (source, field) => renderTemplate(source, scope ?? {}, field, task.taskId),
      );
      const postRendered =
        task.templateFields.length > 0 && !allEmpty(resolved.rendered)
          ? client
              .renderedFields(masker.maskDeep(truncateRendered(resolved.rendered)) as Record<string, unknown>)
              .catch((err: unknown) => {
                log("WARNING", `Could not record the rendered fields: ${errorSummary(err)}`);
              })
          : Promise.resolve();
      if (w.execution_timeout_ms !== null) {
        const ms = w.execution_timeout_ms;
        timeoutTimer = setTimeout(() => interrupt({ kind: "timeout", timeoutMs: ms }), ms);
      }
      const result = await task.execute({ ctx, fields: resolved.fields, signal: abort.signal });
      clearTimeout(timeoutTimer);
      await postRendered;
      return successRequest(w, dag, task, result, client, log);
    };

    let request: FinishRequest | null;
    const settled = await Promise.race([
      body().then(
        (req) => ({ kind: "done" as const, req }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      interruption.then((i) => ({ kind: "interrupt" as const, i })),
    ]);
    clearTimeout(timeoutTimer);
    const cut = interrupted as Interrupt | null;
    if (cut !== null) {
      // User code may still be running (or exit was called): this process is not reused.
      dirty = true;
      markProcessDirty();
      log("ERROR", interruptMessage(cut));
      if (cut.kind === "uncaught") log("ERROR", formatUserError(cut.error));
      request =
        cut.kind === "conflict" || cut.kind === "api_lost"
          ? null
          : { state: "failed", error: masker.mask(interruptMessage(cut)) };
    } else if (settled.kind === "done") {
      request = settled.req;
    } else {
      const err = settled.kind === "error" ? settled.error : undefined;
      if (isSignal(err, TaskSkipped)) {
        log("INFO", `Task skipped: ${err instanceof Error ? err.message : ""}`);
        request = { state: "skipped" };
      } else {
        log("ERROR", `Task failed with exception:\n${formatUserError(err)}`);
        request = { state: "failed", error: masker.mask(errorSummary(err)) };
        if (isSignal(err, TaskFailedNoRetry)) request.no_retry = true;
      }
    }
    stopHeartbeat();

    if (request === null) {
      return { state: null, dirty: true, totalMs: performance.now() - t0 };
    }
    const label =
      request.state === "failed" && request.no_retry === true
        ? "FAILED (no retry)"
        : request.state.toUpperCase();
    log(
      request.state === "failed" ? "ERROR" : "INFO",
      `Marking task as ${label}. dag_id=${w.ti.dag_id}, task_id=${w.ti.task_id}, run_id=${w.ti.run_id}, map_index=${w.ti.map_index}, try_number=${w.try_number}`,
    );
    const recorded = await finishWithRetry(client, request, log);
    const totalMs = performance.now() - t0;
    if (recorded === null) return { state: null, dirty, totalMs };
    if (recorded !== request.state)
      log("INFO", `The API server recorded the try as ${recorded.toUpperCase()}.`);

    const done = loaded as Loaded | null;
    if (ctx !== null && done !== null && done.ok) {
      const cb = done.task.options;
      const callback =
        recorded === "success"
          ? cb.onSuccessCallback
          : recorded === "failed"
            ? cb.onFailureCallback
            : recorded === "up_for_retry"
              ? cb.onRetryCallback
              : undefined;
      const name =
        recorded === "success"
          ? "onSuccessCallback"
          : recorded === "failed"
            ? "onFailureCallback"
            : "onRetryCallback";
      if (callback !== undefined) {
        if ((await runTaskCallback(name, () => callback(ctx as TaskContext), log)) === "hung") dirty = true;
      }
    }
    return { state: recorded, dirty, totalMs };
  } catch (err) {
    // A runner bug, not a task failure: say so in the log and leave the state to the server's timeouts.
    log("ERROR", `The runner failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    markProcessDirty();
    return { state: null, dirty: true, totalMs: performance.now() - t0 };
  } finally {
    stopHeartbeat();
    clearTimeout(timeoutTimer);
    stopCapture();
    leaveTry();
    await taskLog.close();
    if (taskLog.openError !== null) {
      realStderr.write(
        `${new Date().toISOString()} ERROR [runner] The log of ${w.ti.dag_id}.${w.ti.task_id} try ${w.try_number} could not be written to ${w.log_path}: ${errorSummary(taskLog.openError)}\n`,
      );
    }
  }
}
