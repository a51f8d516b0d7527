// One entry for both kinds of workload, and the setup a process needs before it runs user code.
import type { Workload } from "../model/execution-api.js";
import { closeApiAgents } from "./api-client.js";
import { exitProcess, installProcessGuards, isProcessDirty, markProcessDirty } from "./process-guard.js";
import { runCallback } from "./run-callback.js";
import { runTask } from "./run-task.js";
import { installStdioCapture, realStderr } from "./stdio-capture.js";
import { formatUserError } from "./user-stack.js";

export interface WorkloadOutcome {
  state: string | null;
  /** The process should not run another workload. */
  dirty: boolean;
  totalMs: number;
}

export interface RunWorkloadOptions {
  cacheDir?: string;
  receivedAt?: number;
}

/** Runs a task or callback workload in this process (after {@link prepareRunnerProcess}). */
export async function runWorkload(
  workload: Workload,
  options: RunWorkloadOptions = {},
): Promise<WorkloadOutcome> {
  const receivedAt = options.receivedAt ?? performance.now();
  const deps = { receivedAt, ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }) };
  if (workload.kind === "task") {
    const out = await runTask(workload, deps);
    return { state: out.state, dirty: out.dirty || isProcessDirty(), totalMs: out.totalMs };
  }
  const out = await runCallback(workload, deps);
  return { state: out.state, dirty: out.dirty || isProcessDirty(), totalMs: performance.now() - receivedAt };
}

let prepared = false;

/**
 * Makes this process a task runner: user stacks source-mapped, task output captured per try,
 * `process.exit`/uncaught errors/SIGTERM turned into failures of the running try. Idempotent.
 */
export function prepareRunnerProcess(hooks: { onSignal?: (signal: string) => void } = {}): void {
  if (prepared) return;
  prepared = true;
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
