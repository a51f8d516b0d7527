// The whole life of one try inside a runner process: start (or take the start the server handed
// over with the previous finish), load the DAG, build the context, resolve and render the fields,
// run `execute` under heartbeats and a timeout, report the end (with the return value), run the
// task's callbacks. Only the execution API is touched (ARCHITECTURE.md boundary 2).
import { UpdraftError, isUpdraftError } from "../common/errors.js";
import type { FinishRequest, StartResponse, TaskWorkload } from "../model/execution-api.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { TaskContext } from "../sdk/context.js";
import type { Dag } from "../sdk/dag.js";
import { closeHooks } from "../sdk/hooks.js";
import { TaskFailedNoRetry, TaskSkipped } from "../sdk/signals.js";
import { API_CONFLICT, ExecutionApiClient } from "./api-client.js";
import { HOSTNAME, XComReader, buildContext, outletEventsOf, type ContextInput } from "./context.js";
import { findTask } from "./dag-loader.js";
import { finishWithRetry, runTaskCallback, taskCallbacks, type TryLog } from "./finish.js";
import { allEmpty, successRequest, truncateRendered } from "./finish-request.js";
import { startHeartbeat } from "./heartbeat.js";
import { renderMapIndex, renderMapIndexQuietly, type MapIndexTemplate } from "./map-index.js";
import { SecretMasker } from "./masker.js";
import { callOnKill } from "./on-kill.js";
import { enterTry, interruptMessage, markProcessDirty, type Interrupt } from "./process-guard.js";
import { reportPause } from "./pause-report.js";
import { resolveFields } from "./resolve-fields.js";
import { invokeTask, pauseRequest, resumeFields, type PauseRequest } from "./resume.js";
import { captureInto, realStderr, stopCapture } from "./stdio-capture.js";
import { TaskLog } from "./task-log.js";
import { fetchTemplateScope } from "./template-fetch.js";
import { rendererFor } from "./templates.js";
import { errorSummary, formatUserError } from "./user-stack.js";

export { XCOM_WARN_BYTES } from "./finish-request.js";

export interface RunTaskDeps {
  /** Transpiled DAG cache; default `$UPDRAFT_HOME/cache/dags`. */
  cacheDir?: string;
  /** `performance.now()` when the workload arrived, for the overhead figure. */
  receivedAt?: number;
  pid?: number;
  hostname?: string;
  /** The try was handed over with the previous try's finish: it runs already, and this is its start. */
  started?: StartResponse;
  /** Asked when the try is over: may the server hand this runner its next try with the finish? */
  acceptNext?: () => boolean;
}

/** A try the server handed to this runner with the finish of the previous one. */
export interface HandedOver {
  workload: TaskWorkload;
  start: StartResponse;
}

export interface TryOutcome {
  /** The state the server recorded, or null when this runner recorded nothing (start refused, try given away). */
  state: string | null;
  /** User code may still be running, or the process saw a failure: do not reuse it. */
  dirty: boolean;
  /** Milliseconds from arrival of the workload to the server's answer to `finish`. */
  totalMs: number;
  /** The next try, already running on this runner (see RunTaskDeps.acceptNext). */
  next: HandedOver | null;
  /** Wall and CPU time of the task body (execute), in ms; null when it did not run to its end. */
  execMs: number | null;
  execCpuMs: number | null;
  /** Set when the start failed without the server's refusal (unreachable, an error): nothing ran. */
  startFailed?: string;
}

type Loaded = { ok: true; dag: Dag; task: BaseOperator } | { ok: false; error: unknown };

function isSignal(err: unknown, cls: typeof TaskSkipped | typeof TaskFailedNoRetry): boolean {
  return err instanceof cls || (err instanceof Error && err.name === cls.name);
}

/**
 * Runs one try of `workload` in this process. Resolves when the try is over (reported, or given
 * up); never rejects for task failures.
 */
export async function runTask(workload: TaskWorkload, deps: RunTaskDeps = {}): Promise<TryOutcome> {
  const run = new TryRun(workload, deps);
  try {
    return await run.run();
  } catch (err) {
    // A runner bug, not a task failure: say so in the log and leave the state to the server's timeouts.
    run.log("ERROR", `The runner failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    markProcessDirty();
    return { state: null, dirty: true, totalMs: run.elapsed(), next: null, ...run.execTimes() };
  } finally {
    await run.close();
  }
}

/** One try's state while it runs, and its steps in order. */
class TryRun {
  private readonly t0: number;
  private readonly pid: number;
  private readonly hostname: string;
  private readonly client: ExecutionApiClient;
  private readonly masker = new SecretMasker();
  private readonly taskLog: TaskLog;
  private readonly abort = new AbortController();
  private interrupted: Interrupt | null = null;
  private onInterrupt: (i: Interrupt) => void = () => undefined;
  private readonly interruption = new Promise<Interrupt>((resolve) => (this.onInterrupt = resolve));
  private readonly leaveTry: () => void;
  private stopHeartbeat: () => void = () => undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private ctx: TaskContext | null = null;
  private loaded: Loaded | null = null;
  private exec: { ms: number; cpuMs: number } | null = null;
  /** What mapIndexTemplate renders with, once the fields are resolved. */
  private mapIndex: MapIndexTemplate | null = null;
  /** A callback before the body overran its time limit: it may still run, so the process is not reused. */
  private callbackHung = false;
  readonly log: TryLog = (level, text) => this.taskLog.line(level, "runner", text);

  constructor(
    private readonly w: TaskWorkload,
    private readonly deps: RunTaskDeps,
  ) {
    this.t0 = deps.receivedAt ?? performance.now();
    this.pid = deps.pid ?? process.pid;
    this.hostname = deps.hostname ?? HOSTNAME;
    this.client = new ExecutionApiClient(w.api_url, w.token);
    this.masker.add(w.token);
    this.taskLog = new TaskLog(this.masker);
    this.leaveTry = enterTry({ interrupt: (i) => this.interrupt(i) });
    this.taskLog.openInBackground(w.log_path);
    captureInto(this.taskLog);
  }

  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** How long the body ran and how much of it on the CPU: the executor sizes its pool by it. */
  execTimes(): { execMs: number | null; execCpuMs: number | null } {
    return { execMs: this.exec?.ms ?? null, execCpuMs: this.exec?.cpuMs ?? null };
  }

  /** Interrupts (timeout, process.exit, heartbeat 409…) end the try at once, whatever the task does. */
  private interrupt(i: Interrupt): void {
    if (this.interrupted !== null) return;
    this.interrupted = i;
    this.abort.abort(new UpdraftError("TASK_INTERRUPTED", interruptMessage(i)));
    this.onInterrupt(i);
  }

  async run(): Promise<TryOutcome> {
    const w = this.w;
    // The start request leaves first; importing the DAG file overlaps it, its output held until the try is ours.
    const starting = this.start();
    const loading: Promise<Loaded> = findTask(w.fileloc, w.ti.dag_id, w.ti.task_id, this.deps.cacheDir).then(
      (found) => ({ ok: true as const, ...found }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const started = await starting;
    if (!started.ok) {
      await loading;
      await this.taskLog.discard();
      const why = isUpdraftError(started.error, API_CONFLICT)
        ? "another runner owns it or it is no longer queued (start refused with 409); nothing was run"
        : `start failed: ${errorSummary(started.error)}`;
      realStderr.write(
        `${new Date().toISOString()} WARNING [runner] Try ${w.try_number} of ${w.ti.dag_id}.${w.ti.task_id} (run ${w.ti.run_id}, map_index ${w.ti.map_index}): ${why}.\n`,
      );
      return {
        state: null,
        dirty: false,
        totalMs: this.elapsed(),
        next: null,
        ...this.execTimes(),
        ...(isUpdraftError(started.error, API_CONFLICT) ? {} : { startFailed: errorSummary(started.error) }),
      };
    }
    const start = started.response;
    for (const s of start.mask_secrets ?? []) this.masker.add(s);
    this.taskLog.confirm();
    this.log(
      "INFO",
      `${start.next_method != null ? "Resuming" : "Starting"} attempt ${w.try_number} of ${start.max_tries + 1}`,
    );
    this.log(
      "INFO",
      `Running ${w.ti.dag_id}.${w.ti.task_id} (run ${w.ti.run_id}${w.ti.map_index >= 0 ? `, map_index ${w.ti.map_index}` : ""}) on ${this.hostname}, pid ${this.pid}`,
    );
    this.stopHeartbeat = startHeartbeat({
      client: this.client,
      intervalS: start.heartbeat_interval_s,
      pid: this.pid,
      hostname: this.hostname,
      interrupt: (i) => this.interrupt(i),
      warn: (m) => this.log("WARNING", m),
    });
    const request = await this.settle(this.execute(start, loading));
    this.stopHeartbeat();
    // Connections the task's hooks opened end with the try (ctx.hooks, the SQL operators).
    await closeHooks(this.ctx?.hooks);
    if (request === null)
      return { state: null, dirty: true, totalMs: this.elapsed(), next: null, ...this.execTimes() };
    if ("kind" in request) return this.pause(request);
    return this.report(request);
  }

  /** The try's start: handed over with the previous finish, or asked for now. */
  private start(): Promise<{ ok: true; response: StartResponse } | { ok: false; error: unknown }> {
    if (this.deps.started !== undefined) return Promise.resolve({ ok: true, response: this.deps.started });
    return this.client.start({ hostname: this.hostname, pid: this.pid }).then(
      (response) => ({ ok: true as const, response }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  }

  /** The task's body: context, XCom and template resolution, `execute`; the success report. */
  private async execute(start: StartResponse, loading: Promise<Loaded>): Promise<FinishRequest> {
    const w = this.w;
    const loaded = (this.loaded = await loading);
    if (!loaded.ok) throw loaded.error;
    const { dag, task } = loaded;
    const input: ContextInput = {
      ti: w.ti,
      tryNumber: w.try_number,
      start,
      dag,
      task,
      client: this.client,
      masker: this.masker,
    };
    const ctx = (this.ctx = buildContext(input));
    const reader = new XComReader(input);
    const scope = await fetchTemplateScope(task, input, ctx);
    const renderer = rendererFor(dag.options);
    const resolved = await resolveFields(
      task,
      w.ti.map_index,
      { pull: (taskId, key) => reader.pull(taskId, key) },
      (source, field) => renderer.render(source, scope ?? {}, field, task.taskId),
    );
    const postRendered =
      task.templateFields.length > 0 && !allEmpty(resolved.rendered)
        ? this.client
            .renderedFields(
              this.masker.maskDeep(truncateRendered(resolved.rendered)) as Record<string, unknown>,
            )
            .catch((err: unknown) => {
              this.log("WARNING", `Could not record the rendered fields: ${errorSummary(err)}`);
            })
        : Promise.resolve();
    const template = task.options.mapIndexTemplate;
    if (template !== undefined) this.mapIndex = { template, ctx, scope, fields: resolved.fields, renderer };
    const onExecute = task.options.onExecuteCallback;
    if (onExecute !== undefined) {
      // taskinstance.py _execute_task_with_callbacks: on_execute_callback runs right before
      // execute, outside its timeout; a failing callback is logged and the task runs all the same.
      const outcome = await runTaskCallback("onExecuteCallback", () => onExecute(ctx), this.log);
      if (outcome === "hung") this.callbackHung = true;
    }
    if (w.execution_timeout_ms !== null) {
      const ms = w.execution_timeout_ms;
      this.timeoutTimer = setTimeout(() => this.interrupt({ kind: "timeout", timeoutMs: ms }), ms);
    }
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    // execute, or the method a deferral named when this run resumes one (decision 0030).
    const result = await invokeTask(task, {
      ctx,
      fields: resolved.fields,
      signal: this.abort.signal,
      // Files named by a field (a SparkApplication manifest) render with the fields' scope.
      render: (text, field) => renderer.renderString(text, scope ?? { ...ctx }, field, task.taskId),
      ...resumeFields(start),
    });
    const cpu = process.cpuUsage(cpu0);
    this.exec = { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
    clearTimeout(this.timeoutTimer);
    await postRendered;
    const req = successRequest(w, dag, task, result, this.log);
    const outletEvents = outletEventsOf(ctx);
    if (outletEvents.length > 0) req.outlet_events = outletEvents;
    // Rendered after the body (which may add to its context); an error here fails the task.
    const rendered = renderMapIndex(this.mapIndex, w.ti.task_id, this.log);
    if (rendered !== null) req.rendered_map_index = rendered;
    return req;
  }

  /** The task's onKill after an interruption (see callOnKill). */
  private async killTask(): Promise<void> {
    const loaded = this.loaded;
    if (loaded !== null && loaded.ok) await callOnKill(loaded.task, (level, m) => this.log(level, m));
  }

  /**
   * What to report: the body's success, a task failure or skip, or an interruption (then the
   * process is not reused; after a 409 or a lost server nothing is reported: null).
   */
  private async settle(body: Promise<FinishRequest>): Promise<FinishRequest | PauseRequest | null> {
    const settled = await Promise.race([
      body.then(
        (req) => ({ kind: "done" as const, req }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      this.interruption.then((i) => ({ kind: "interrupt" as const, i })),
    ]);
    clearTimeout(this.timeoutTimer);
    const cut = this.interrupted as Interrupt | null;
    if (cut !== null) {
      // User code may still be running (or exit was called): this process is not reused.
      markProcessDirty();
      this.log("ERROR", interruptMessage(cut));
      if (cut.kind === "uncaught") this.log("ERROR", formatUserError(cut.error));
      await this.killTask();
      return cut.kind === "conflict" || cut.kind === "api_lost"
        ? null
        : { state: "failed", error: this.masker.mask(interruptMessage(cut)) };
    }
    if (settled.kind === "done") return settled.req;
    const err = settled.kind === "error" ? settled.error : undefined;
    const pause = pauseRequest(err, this.w.fileloc);
    if (pause !== null) return pause;
    if (isSignal(err, TaskSkipped)) {
      this.log("INFO", `Task skipped: ${err instanceof Error ? err.message : ""}`);
      return { state: "skipped", ...renderMapIndexQuietly(this.mapIndex, this.w.ti.task_id, this.log) };
    }
    this.log("ERROR", `Task failed with exception:\n${formatUserError(err)}`);
    const req: FinishRequest = {
      state: "failed",
      error: this.masker.mask(errorSummary(err)),
      ...renderMapIndexQuietly(this.mapIndex, this.w.ti.task_id, this.log),
    };
    if (isSignal(err, TaskFailedNoRetry)) req.no_retry = true;
    return req;
  }

  /** Reports the end (taking the next try if the server hands one over), then runs the callback. */
  private async report(request: FinishRequest): Promise<TryOutcome> {
    const w = this.w;
    const label =
      request.state === "failed" && request.no_retry === true
        ? "FAILED (no retry)"
        : request.state.toUpperCase();
    this.log(
      request.state === "failed" ? "ERROR" : "INFO",
      `Marking task as ${label}. dag_id=${w.ti.dag_id}, task_id=${w.ti.task_id}, run_id=${w.ti.run_id}, map_index=${w.ti.map_index}, try_number=${w.try_number}`,
    );
    const loaded = this.loaded;
    const callback = taskCallbacks(loaded !== null && loaded.ok ? loaded.task : undefined);
    // A try with a callback to run afterwards does not take the next one: the callback comes first.
    if (!callback.defined && this.interrupted === null && this.deps.acceptNext?.() === true) {
      request.accept_next = { hostname: this.hostname, pid: this.pid };
    }
    const answer = await finishWithRetry(this.client, request, this.log);
    const totalMs = this.elapsed();
    if (answer === null)
      return { state: null, dirty: this.interrupted !== null, totalMs, next: null, ...this.execTimes() };
    const recorded = answer.state;
    if (recorded !== request.state)
      this.log("INFO", `The API server recorded the try as ${recorded.toUpperCase()}.`);
    // The next try talks to the server this one did.
    const next =
      answer.next == null
        ? null
        : { ...answer.next, workload: { ...answer.next.workload, api_url: w.api_url } };
    let dirty = this.interrupted !== null || this.callbackHung;
    const fn = callback.forState(recorded);
    if (this.ctx !== null && fn !== undefined) {
      const ctx = this.ctx;
      // Failure and retry callbacks see the error that ended the try (Airflow's context["exception"]).
      const withError =
        (recorded === "failed" || recorded === "up_for_retry") && request.error != null
          ? { ...ctx, exception: request.error }
          : ctx;
      if ((await runTaskCallback(fn.name, () => fn.call(withError), this.log)) === "hung") dirty = true;
    }
    return { state: recorded, dirty, totalMs, next, ...this.execTimes() };
  }

  /** A deferral or reschedule: this run ends, the try does not (no callbacks; see reportPause). */
  private async pause(p: PauseRequest): Promise<TryOutcome> {
    const answer = await reportPause(this.client, this.w, p, this.log);
    const totalMs = this.elapsed();
    if (answer === null) return { state: null, dirty: false, totalMs, next: null, ...this.execTimes() };
    return { state: answer.state, dirty: this.callbackHung, totalMs, next: null, ...this.execTimes() };
  }

  async close(): Promise<void> {
    const w = this.w;
    this.stopHeartbeat();
    clearTimeout(this.timeoutTimer);
    await closeHooks(this.ctx?.hooks); // and what callbacks opened after the report
    stopCapture();
    this.leaveTry();
    await this.taskLog.close();
    if (this.taskLog.openError !== null) {
      realStderr.write(
        `${new Date().toISOString()} ERROR [runner] The log of ${w.ti.dag_id}.${w.ti.task_id} try ${w.try_number} could not be written to ${this.taskLog.path}: ${errorSummary(this.taskLog.openError)}\n`,
      );
    }
  }
}
