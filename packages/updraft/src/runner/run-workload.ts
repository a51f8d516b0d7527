// One entry for both kinds of workload, and the setup a process needs before it runs user code.
import type { StartResponse, Workload } from "../model/execution-api.js";
import { closeApiAgents } from "./api-client.js";
import { exitProcess, installProcessGuards, isProcessDirty, markProcessDirty } from "./process-guard.js";
import { runCallback } from "./run-callback.js";
import { runTask, type HandedOver } from "./run-task.js";
import { installStdioCapture, realStderr } from "./stdio-capture.js";
import { formatUserError } from "./user-stack.js";

export interface WorkloadOutcome {
  state: string | null;
  /** The process should not run another workload. */
  dirty: boolean;
  totalMs: number;
  /** The next try, handed to this runner with the finish: it is running, run it next. */
  next: HandedOver | null;
  /** Wall and CPU time of the task body, in ms (null for callbacks, or when it did not end). */
  execMs: number | null;
  execCpuMs: number | null;
  /** The start failed without the server's refusal (see TryOutcome.startFailed). */
  startFailed?: string;
}

export interface RunWorkloadOptions {
  cacheDir?: string;
  receivedAt?: number;
  /** The try was handed over with the previous finish: its start. */
  started?: StartResponse;
  /** May the server hand this process its next try with the finish? */
  acceptNext?: () => boolean;
}

/** Runs a task or callback workload in this process (after {@link prepareRunnerProcess}). */
export async function runWorkload(
  workload: Workload,
  options: RunWorkloadOptions = {},
): Promise<WorkloadOutcome> {
  const receivedAt = options.receivedAt ?? performance.now();
  const deps = {
    receivedAt,
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
  };
  if (workload.kind === "task") {
    const out = await runTask(workload, {
      ...deps,
      ...(options.started === undefined ? {} : { started: options.started }),
      // A process that may be dirty takes nothing more.
      acceptNext: () => !isProcessDirty() && (options.acceptNext?.() ?? false),
    });
    const dirty = out.dirty || isProcessDirty();
    return {
      state: out.state,
      dirty,
      totalMs: out.totalMs,
      next: out.next,
      execMs: out.execMs,
      execCpuMs: out.execCpuMs,
      ...(out.startFailed === undefined ? {} : { startFailed: out.startFailed }),
    };
  }
  const out = await runCallback(workload, deps);
  return {
    state: out.state,
    dirty: out.dirty || isProcessDirty(),
    totalMs: performance.now() - receivedAt,
    next: null,
    execMs: null,
    execCpuMs: null,
  };
}

let prepared = false;

/**
 * Makes this process a task runner: user stacks source-mapped, task output captured per try,
 * `process.exit`/uncaught errors/SIGTERM turned into failures of the running try. Idempotent.
 */
export function prepareRunnerProcess(hooks: { onSignal?: (signal: string) => void } = {}): void {
  if (prepared) return;
  prepared = true;
  // A runner whose parent died has nowhere to write: EPIPE on stdout/stderr must not become an
  // uncaught error, which is reported on stderr, which fails again — a loop that burns a core.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
  process.setSourceMapsEnabled(true);
  installStdioCapture();
  installProcessGuards({
    onIdleProblem(what, error) {
      markProcessDirty();
      realStderr.write(
        `${new Date().toISOString()} ERROR [runner] ${what} outside any try (the process will be retired):\n${formatUserError(error)}\n`,
      );
    },
    onSignal(signal) {
      if (hooks.onSignal) hooks.onSignal(signal);
      else exitProcess(signal === "SIGINT" ? 130 : 143);
    },
  });
}

/**
 * Runs one workload in the calling process and returns its outcome: what `updraft tasks run`
 * calls. The caller builds the workload (token, log path, API URL) and decides how to exit.
 */
export async function runWorkloadInThisProcess(
  workload: Workload,
  options: RunWorkloadOptions = {},
): Promise<WorkloadOutcome> {
  prepareRunnerProcess();
  try {
    return await runWorkload(workload, options);
  } finally {
    closeApiAgents();
  }
}
