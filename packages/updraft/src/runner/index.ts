/** The task runner: runs one try (or callback) of user code, talking only to the execution API. */
export { runTask, XCOM_WARN_BYTES } from "./run-task.js";
export type { RunTaskDeps, TryOutcome } from "./run-task.js";
export { runCallback } from "./run-callback.js";
export type { CallbackOutcome } from "./run-callback.js";
export { runWorkload, runWorkloadInThisProcess, prepareRunnerProcess } from "./run-workload.js";
export type { RunWorkloadOptions, WorkloadOutcome } from "./run-workload.js";
export { ExecutionApiClient } from "./api-client.js";
export { strftime, strptime, dsAdd, dsFormat, toDs, toTs } from "./dates.js";
export type { FromRunner, ToRunner } from "./ipc.js";
export { echoTaskLogsToStdout } from "./stdio-capture.js";
