export { startTaskInstance } from "./start-task-instance.js";
export type { StartOptions } from "./start-task-instance.js";
export { heartbeatTaskInstance } from "./heartbeat-task-instance.js";
export { finishTaskInstance } from "./finish-task-instance.js";
export type { FinishOptions, FinishResult } from "./finish-task-instance.js";
export { pushXcom, pullXcom, setRenderedFields, xcomTooLarge } from "./task-xcom.js";
export { getVariableForTask, getConnectionForTask, parseExtra } from "./task-secrets.js";
export { triggerDagRun } from "./trigger-dag-run.js";
export type { TriggerDagRunInput, TriggerOptions } from "./trigger-dag-run.js";
export { clearTaskInstances } from "./clear-task-instances.js";
export type { ClearTaskInstancesInput, ClearedTaskInstance, ClearResult } from "./clear-task-instances.js";
export { pauseAfterFailedRuns, setDagPaused } from "./dag-paused.js";
export { syncDagBag } from "./sync-dag-bag.js";
export type { DagBagChanges, SyncDagBagOptions, SyncDagBagResult } from "./sync-dag-bag.js";
export { loadDag, peekDag } from "./dag-cache.js";
export { pastBlocks } from "./prev-dagrun.js";
export { insertRuns } from "./insert-runs.js";
export type { NewRun } from "./insert-runs.js";
export { checkId, checkRunId, dagNotFound, runNotFound, MAX_ID_LENGTH } from "./ids.js";
export { isSensitiveKey, redactSensitive, REDACTED } from "./sensitive.js";
export { endTries, endTriesCtes, retryDelaySeconds } from "./end-try.js";
export type { EndedTry, TryEnd } from "./end-try.js";
export { taskWorkload, callbackWorkload } from "./workloads.js";
export type { WorkloadSigner, CallbackKind } from "./workloads.js";
export { writeDecisions } from "./write-decisions.js";
export type { RunDecisions } from "./write-decisions.js";
export { setDagRunState } from "./set-dag-run-state.js";
export type { MarkableRunState, SetDagRunStateResult } from "./set-dag-run-state.js";
export { setTaskInstanceState } from "./set-task-instance-state.js";
export type {
  MarkableTiState,
  MarkedTaskInstance,
  SetTaskInstanceStateInput,
  SetTaskInstanceStateResult,
} from "./set-task-instance-state.js";
export {
  checkPasswordStrength,
  hashPassword,
  verifyPassword,
  verifyNothing,
  MIN_PASSWORD_LENGTH,
  TUTORIAL_PASSWORD,
} from "./passwords.js";
export {
  secretHash,
  newSecret,
  randomPassword,
  userNotFound,
  requireUser,
  createUser,
  resetPassword,
  setActive,
  createApiToken,
  startSession,
  API_TOKEN_PREFIX,
} from "./users.js";
export type { CreateUserInput, NewApiToken, NewSession } from "./users.js";
export { updateUser, removeUser } from "./manage-users.js";
export type { UserChanges } from "./manage-users.js";
export { emitTiEnd, emitTiStart, type TiEndMetric } from "./ti-metrics.js";
export { deferTaskInstance, rescheduleTaskInstance } from "./defer-task-instance.js";
export { submitTriggerEvents, timeOutDeferred } from "./trigger-events.js";
export type { FiredTrigger, ResumedTi } from "./trigger-events.js";
export { createAssetEvent } from "./asset-events.js";
export type { NewAssetEvent, CreatedAssetEvent } from "./asset-events.js";
