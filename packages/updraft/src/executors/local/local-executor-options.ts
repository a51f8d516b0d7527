// What a LocalExecutor is built from: its options, the runner entry it forks, and the environment
// its runners get (without the secrets a task must never see).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Workload } from "../../model/execution-api.js";
import type { ExecutorLogger } from "../executor.js";

/** The runner entry in the built package (a path, not an import: runner code runs only in children). */
export const RUNNER_SCRIPT = ((): string => {
  const beside = fileURLToPath(new URL("../../runner/main.js", import.meta.url));
  // Loaded from src/ (tests run the TypeScript sources): fork the built runner.
  return existsSync(beside)
    ? beside
    : fileURLToPath(new URL("../../../dist/runner/main.js", import.meta.url));
})();

/**
 * Environment a runner must not see: runners never touch the database, sign tokens, or put work on
 * the workers' Redis (a task that could would run code as any try).
 */
const SECRET_ENV = /^UPDRAFT__(DATABASE__|API__SECRET_KEY|CORE__FERNET_KEY|QUEUE__)/i;

export interface LocalExecutorOptions {
  /** Workloads that may run at once (config `core.parallelism`). Default 32. */
  parallelism?: number;
  /** Idle warm processes kept ready. Default min(2, parallelism). */
  minWarm?: number;
  /**
   * Processes the executor takes work for at first, whatever the tasks do (see pool-sizing.ts):
   * beyond this the pool grows only when the tasks mostly wait (their bodies' CPU time is under
   * half their run time) or work has waited {@link growAfterMs} with no process freeing up. Default
   * twice the cores: a runner of short tasks spends about half its time waiting for the API server,
   * so two per core keep the cores busy (measured: fan200 and throughput fastest at 4 on 2 cores).
   */
  eagerProcesses?: number;
  /** Work waiting this long with no process freeing up lets the pool grow past eagerProcesses. Default 100. */
  growAfterMs?: number;
  /** Processes idle this long beyond minWarm retire, and the pool falls back to its eager size. Default 60 000. */
  idleRetireMs?: number;
  /** A warm process retires after this many workloads. Default 1000. */
  tasksPerProcess?: number;
  /** `--max-old-space-size` of each runner, in MB. Default 1024. */
  memoryCapMb?: number;
  /** A runner still busy this long after its try's execution timeout is killed (the task blocks its event loop). Default 15 000. */
  timeoutGraceMs?: number;
  /** Default for `stop({ timeoutMs })`. Default 60 000. */
  stopTimeoutMs?: number;
  /** Environment of the runners; default this process's, without database and signing secrets. */
  env?: NodeJS.ProcessEnv;
  /**
   * Where this machine keeps task logs when not at the workloads' paths (the scheduler's folder):
   * a QueueExecutor worker's own logging.base_log_folder, which its log server serves. Unset: the
   * workloads' paths.
   */
  logFolder?: string;
  /** The runner entry; default `dist/runner/main.js` of this package. */
  runnerScript?: string;
  logger?: ExecutorLogger;
}

export function runnerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!SECRET_ENV.test(k)) env[k] = v;
  return env;
}

export function describeWorkload(w: Workload): Record<string, unknown> {
  return {
    kind: w.kind,
    dag_id: w.ti.dag_id,
    task_id: w.ti.task_id,
    run_id: w.ti.run_id,
    map_index: w.ti.map_index,
    try_number: w.try_number,
  };
}
