export { openDatabase, notify } from "./open.js";
export { openMemoryDatabase } from "./memory-database.js";
export type { Database, DialectName, OpenDatabaseOptions } from "./open.js";
export { migrate, checkMigrations, resetDatabase } from "./migrate.js";
export type { MigrationInfo, MigrationStatus } from "./migrate.js";
export { cleanDatabase, CLEANED_TABLES } from "./clean.js";
export type { CleanOptions, CleanedTable } from "./clean.js";
export { createCipher, generateFernetKey } from "./cipher.js";
export type { Cipher } from "./cipher.js";
export { inTransaction } from "./executor.js";
export type { Executor } from "./executor.js";
export { isUniqueViolation, isConnectionError } from "./pg-errors.js";
export { toJson } from "./schema.js";
export type {
  Schema,
  JsonValue,
  Timestamp,
  DagRow,
  SerializedDagRow,
  DagRunRow,
  NewDagRun,
  TaskInstanceRow,
  TaskInstanceUpdate,
  TaskInstanceHistoryRow,
  XcomRow,
  PoolRow,
  ImportErrorRow,
  JobRow,
  TriggerRow,
  LogRow,
} from "./schema.js";

export {
  upsertDag,
  saveDag,
  getDag,
  listDags,
  setDagPaused,
  deactivateMissingDags,
  setNextDagrun,
  listDagsDueForRun,
} from "./queries/dag.js";
export type { DagUpsert, ListDagsOptions } from "./queries/dag.js";
export { writeSerializedDag, getSerializedDag, getSerializedDagHashes } from "./queries/serialized-dag.js";
export {
  setImportErrors,
  clearImportErrors,
  clearImportErrorsExcept,
  listImportErrors,
} from "./queries/import-error.js";
export type { ImportErrorInput } from "./queries/import-error.js";
export {
  createDagRun,
  getDagRun,
  getDagRunById,
  listDagRuns,
  getLatestDagRun,
  countActiveDagRuns,
  transitionDagRun,
} from "./queries/dag-run.js";
export type { DagRunKey, CreateDagRunInput, ListDagRunsOptions, DagRunChanges } from "./queries/dag-run.js";
export {
  createTaskInstances,
  getTaskInstance,
  getTaskInstanceById,
  listTaskInstances,
  transitionTaskInstance,
  heartbeatTaskInstance,
  listTaskInstancesWithStaleHeartbeat,
  listTaskInstancesQueuedTooLong,
} from "./queries/task-instance.js";
export type {
  TaskInstanceKey,
  NewTaskInstance,
  TaskInstanceChanges,
  TaskInstanceTransition,
} from "./queries/task-instance.js";
export { recordTaskInstanceTry, listTaskInstanceTries } from "./queries/task-instance-history.js";
export { setXcom, getXcom, listXcoms, clearXcoms, RETURN_VALUE_KEY } from "./queries/xcom.js";
export { getVariable, listVariables, setVariable, deleteVariable } from "./queries/variable.js";
export type { Variable } from "./queries/variable.js";
export { getConnection, listConnections, setConnection, deleteConnection } from "./queries/connection.js";
export type { Connection } from "./queries/connection.js";
export { getPool, listPools, setPool, deletePool, getPoolSlotStats, DEFAULT_POOL } from "./queries/pool.js";
export type { PoolInput, PoolSlotStats } from "./queries/pool.js";
export { startJob, heartbeatJob, endJob, listAliveJobs, getJob } from "./queries/job.js";
export { createTrigger, getTrigger, listTriggers, deleteOrphanTriggers } from "./queries/trigger.js";
export { addAuditLog, listAuditLogs } from "./queries/log.js";
export type { AuditEvent } from "./queries/log.js";
