export { openDatabase } from "./open.js";
export { openMemoryDatabase } from "./memory-database.js";
export type { Database, DialectName, OpenDatabaseOptions } from "./open.js";
export { migrate, checkMigrations, resetDatabase } from "./migrate.js";
export type { MigrationInfo, MigrationStatus } from "./migrate.js";
export { cleanDatabase } from "./clean.js";
export type { CleanOptions, CleanedTable } from "./clean.js";
export { createCipher, generateFernetKey } from "./cipher.js";
export type { Cipher } from "./cipher.js";
export { inTransaction } from "./executor.js";
export { rowsSql } from "./rows.js";
export type { RowColumn } from "./rows.js";
export type { Executor } from "./executor.js";
export type {
  Schema,
  JsonValue,
  DagRow,
  DagRunRow,
  TaskInstanceRow,
  PoolRow,
  ImportErrorRow,
  JobRow,
  LogRow,
  NotificationRow,
} from "./schema.js";

export {
  saveDag,
  getDag,
  listDags,
  setDagPaused,
  deactivateMissingDags,
  setNextDagrun,
} from "./queries/dag.js";
export type { DagUpsert, ListDagsOptions } from "./queries/dag.js";
export { setImportErrors, listImportErrors } from "./queries/import-error.js";
export { getAssetSchedules } from "./queries/serialized-dag.js";
export type { AssetSchedule } from "./queries/serialized-dag.js";
export { setDagCode, deleteDagCode, getDagCode, sourceHash } from "./queries/dag-code.js";
export type { ImportErrorInput } from "./queries/import-error.js";
export { createDagRun, getDagRun, listDagRuns, transitionDagRun } from "./queries/dag-run.js";
export type { DagRunKey, CreateDagRunInput, ListDagRunsOptions } from "./queries/dag-run.js";
export {
  createTaskInstances,
  getTaskInstance,
  listTaskInstances,
  markOtherTaskInstancesSuccess,
  taskInstancesWithRunDate,
} from "./queries/task-instance.js";
export type { TaskInstanceKey, NewTaskInstance } from "./queries/task-instance.js";
export { setXcom } from "./queries/xcom.js";
export { getVariable, listVariables, setVariable, deleteVariable } from "./queries/variable.js";
export type { Variable } from "./queries/variable.js";
export { getConnection, listConnections, setConnection, deleteConnection } from "./queries/connection.js";
export type { Connection } from "./queries/connection.js";
export { getPool, listPools, setPool, deletePool, getPoolSlotStats } from "./queries/pool.js";
export type { PoolInput, PoolSlotStats } from "./queries/pool.js";
export { startJob, heartbeatJob, endJob } from "./queries/job.js";
export { addAuditLog } from "./queries/log.js";
export type { AuditEvent } from "./queries/log.js";
export {
  getUser,
  getUserById,
  listUsers,
  listRoles,
  insertUser,
  deleteUser,
  setUserPassword,
  setUserActive,
  setLastLogin,
  addUserRole,
  removeUserRole,
  insertApiToken,
  listApiTokens,
  revokeApiToken,
  deleteApiTokenByHash,
  userByApiToken,
  insertSession,
  userBySession,
  deleteSession,
  deleteUserSessions,
  setUserProfile,
  setUserRoles,
  lockActiveHolders,
} from "./queries/user.js";
export type { UserWithRoles, NewUser } from "./queries/user.js";
export type { UserRow, ApiTokenRow } from "./schema.js";
export {
  TRIGGERER_JOB_TYPE,
  claimTriggers,
  heldTriggerIds,
  deleteUnusedTriggers,
  releaseTriggers,
} from "./queries/trigger.js";
export type { ClaimedTrigger } from "./queries/trigger.js";
