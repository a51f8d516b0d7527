import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";
import type { DagRunState, DagRunType, TaskInstanceState } from "../model/states.js";

/** Any JSON value, as stored in jsonb columns. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A timestamptz column: read as a Date, written as a Date or an ISO string (or `sql\`now()\``).
 * Time that crosses processes must be the database's `now()`, never the local clock.
 */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

/**
 * A jsonb column: read as the parsed value, written as JSON text (see `toJson`), because the
 * pg driver would turn a JS array into a PostgreSQL array literal.
 */
export type Jsonb<T extends JsonValue = JsonValue> = ColumnType<T, string, string>;

export interface DagTable {
  dag_id: string;
  is_paused: Generated<boolean>;
  is_active: Generated<boolean>;
  fileloc: string | null;
  owners: string | null;
  description: string | null;
  timetable_summary: string | null;
  tags: ColumnType<string[], string | undefined, string>;
  max_active_runs: number | null;
  max_active_tasks: number | null;
  has_import_errors: Generated<boolean>;
  next_dagrun: Timestamp | null;
  next_dagrun_data_interval_start: Timestamp | null;
  next_dagrun_data_interval_end: Timestamp | null;
  next_dagrun_create_after: Timestamp | null;
  last_parsed_time: Timestamp | null;
}

export interface SerializedDagTable {
  dag_id: string;
  data: Jsonb;
  dag_hash: string;
  fileloc: string;
  last_updated: GeneratedTimestamp;
}

export interface DagRunTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  logical_date: Timestamp | null;
  data_interval_start: Timestamp | null;
  data_interval_end: Timestamp | null;
  run_after: GeneratedTimestamp;
  run_type: DagRunType;
  state: ColumnType<DagRunState, DagRunState | undefined, DagRunState>;
  queued_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  start_date: Timestamp | null;
  end_date: Timestamp | null;
  conf: ColumnType<Record<string, JsonValue>, string | undefined, string>;
  external_trigger: Generated<boolean>;
  creating_job_id: number | null;
  last_scheduling_decision: Timestamp | null;
  dag_hash: string | null;
  clear_number: Generated<number>;
  updated_at: GeneratedTimestamp;
  /** A user's note on the run (Airflow's dag_run_note). */
  note: string | null;
}

export interface TaskInstanceTable {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: Generated<number>;
  id: Generated<string>;
  state: TaskInstanceState | null;
  try_number: Generated<number>;
  max_tries: Generated<number>;
  start_date: Timestamp | null;
  end_date: Timestamp | null;
  duration: number | null;
  queued_dttm: Timestamp | null;
  scheduled_dttm: Timestamp | null;
  pool: Generated<string>;
  pool_slots: Generated<number>;
  priority_weight: Generated<number>;
  queue: Generated<string>;
  operator: string | null;
  hostname: string | null;
  pid: number | null;
  executor: string | null;
  external_executor_id: string | null;
  last_heartbeat_at: Timestamp | null;
  next_retry_at: Timestamp | null;
  rendered_fields: Jsonb | null;
  /** The mapped instance's name rendered from mapIndexTemplate (migration 0004). */
  rendered_map_index: string | null;
  custom_operator_name: string | null;
  task_display_name: string | null;
  trigger_id: number | null;
  trigger_timeout: Timestamp | null;
  next_method: string | null;
  next_kwargs: Jsonb | null;
  updated_at: GeneratedTimestamp;
  /** The run's logical date, kept here for the claim-order index of the scheduled backlog. */
  run_logical_date: Timestamp | null;
  /** The scheduler job that queued the current try (its adopter re-queues it if that job dies). */
  queued_by_job_id: number | null;
  /** A user's note on the task instance (Airflow's task_instance_note). */
  note: string | null;
  /** Why the instance is not scheduled though its trigger rule is met (depends_on_past); null otherwise. */
  wait_reason: Generated<string | null>;
}

export interface TaskInstanceHistoryTable {
  id: Generated<number>;
  task_instance_id: string | null;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  state: TaskInstanceState | null;
  start_date: Timestamp | null;
  end_date: Timestamp | null;
  duration: number | null;
  queued_dttm: Timestamp | null;
  hostname: string | null;
  pid: number | null;
  executor: string | null;
  pool: string | null;
  queue: string | null;
  operator: string | null;
  max_tries: number | null;
  error: string | null;
  updated_at: GeneratedTimestamp;
}

export interface XcomTable {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: Generated<number>;
  key: string;
  value: Jsonb | null;
  timestamp: GeneratedTimestamp;
}

export interface VariableTable {
  key: string;
  val: string | null;
  description: string | null;
  is_encrypted: Generated<boolean>;
}

export interface ConnectionTable {
  conn_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  extra: string | null;
  is_encrypted: Generated<boolean>;
  is_extra_encrypted: Generated<boolean>;
}

export interface PoolTable {
  pool: string;
  /** -1 means unlimited. */
  slots: number;
  description: string | null;
  include_deferred: Generated<boolean>;
}

export interface ImportErrorTable {
  id: Generated<number>;
  filename: string;
  stacktrace: string;
  line: number | null;
  timestamp: GeneratedTimestamp;
}

export interface JobTable {
  id: Generated<number>;
  job_type: string;
  state: Generated<string>;
  hostname: string | null;
  pid: number | null;
  latest_heartbeat: GeneratedTimestamp;
  start_date: GeneratedTimestamp;
  end_date: Timestamp | null;
}

export interface TriggerTable {
  id: Generated<number>;
  classpath: string;
  kwargs: ColumnType<Record<string, JsonValue>, string | undefined, string>;
  created_date: GeneratedTimestamp;
  triggerer_id: number | null;
}

/** A poke of a sensor in mode "reschedule" that was not done (migration 0013, Airflow's task_reschedule). */
export interface TaskRescheduleTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  start_date: Timestamp;
  end_date: Timestamp;
  duration: number;
  reschedule_date: Timestamp;
}

/** An asset any DAG names (migration 0014, decision 0031). */
export interface AssetTable {
  id: Generated<number>;
  uri: string;
  name: string;
  group: string;
  extra: ColumnType<Record<string, JsonValue>, string | undefined, string>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

/** One update of an asset: a producing task's success, or an event posted through the API. */
export interface AssetEventTable {
  id: Generated<number>;
  asset_id: number;
  timestamp: GeneratedTimestamp;
  source_dag_id: string | null;
  source_run_id: string | null;
  source_task_id: string | null;
  source_map_index: Generated<number>;
  extra: ColumnType<Record<string, JsonValue>, string | undefined, string>;
}

export interface DagScheduleAssetReferenceTable {
  asset_id: number;
  dag_id: string;
  created_at: GeneratedTimestamp;
}

export interface TaskOutletAssetReferenceTable {
  asset_id: number;
  dag_id: string;
  task_id: string;
  created_at: GeneratedTimestamp;
}

/** An update a consumer DAG received and has not run for yet. */
export interface AssetDagRunQueueTable {
  asset_id: number;
  target_dag_id: string;
  created_at: GeneratedTimestamp;
}

export interface DagRunAssetEventTable {
  dag_run_id: number;
  event_id: number;
}

export interface LogTable {
  id: Generated<number>;
  dttm: GeneratedTimestamp;
  dag_id: string | null;
  task_id: string | null;
  map_index: number | null;
  run_id: string | null;
  try_number: number | null;
  event: string;
  owner: string | null;
  extra: string | null;
}

export interface RoleTable {
  id: Generated<number>;
  name: string;
}

export interface UserTable {
  id: Generated<number>;
  username: string;
  email: string;
  first_name: Generated<string>;
  last_name: Generated<string>;
  /** argon2id hash (PHC string); never the password. */
  password: string;
  active: Generated<boolean>;
  created_on: GeneratedTimestamp;
  changed_on: GeneratedTimestamp;
  last_login: Timestamp | null;
}

export interface UserRoleTable {
  user_id: number;
  role_id: number;
}

export interface ApiTokenTable {
  id: Generated<number>;
  user_id: number;
  /** sha256 (hex) of the token; the token itself is shown once and never stored. */
  token_hash: string;
  description: string | null;
  created_at: GeneratedTimestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/** The source of a DAG file as last parsed (migration 0009). */
export interface DagCodeTable {
  fileloc: string;
  source_code: string;
  /** sha256 (hex) of source_code. */
  source_hash: string;
  last_updated: GeneratedTimestamp;
}

export interface UserSessionTable {
  /** sha256 (hex) of the session cookie's value. */
  id: string;
  user_id: number;
  /** sha256 (hex) of the session's CSRF token. */
  csrf_hash: string;
  created_at: GeneratedTimestamp;
  expires_at: Timestamp;
}

/** An ended try to tell people about (migration 0010): written with the try's end, sent once. */
export interface NotificationTable {
  id: Generated<number>;
  /** "task_failed" or "task_retry". */
  kind: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  error: string | null;
  created_at: GeneratedTimestamp;
  claimed_at: Timestamp | null;
  attempts: Generated<number>;
  done_at: Timestamp | null;
  /** "sent", "not_needed" (no address, or the task does not ask), "gave_up" (every attempt failed). */
  outcome: string | null;
  last_error: string | null;
}

/** A task that was not done by its SLA deadline in one run (migration 0011). */
export interface SlaMissTable {
  dag_id: string;
  run_id: string;
  task_id: string;
  logical_date: Timestamp | null;
  deadline: Timestamp;
  timestamp: GeneratedTimestamp;
  description: string | null;
}

/** A run that did not finish by one of its DAG's deadline alerts (migration 0012). */
export interface DeadlineTable {
  dag_id: string;
  run_id: string;
  /** Position of the alert in the serialized DAG's `deadline` list. */
  alert_index: number;
  reference_type: string;
  deadline_time: Timestamp;
  /** When the scheduler recorded the miss. */
  created_at: GeneratedTimestamp;
}

export interface MigrationTable {
  version: number;
  name: string;
  applied_at: GeneratedTimestamp;
}

/** The metadata database, table by table, for `Kysely<Schema>`. */
export interface Schema {
  dag: DagTable;
  serialized_dag: SerializedDagTable;
  dag_run: DagRunTable;
  task_instance: TaskInstanceTable;
  task_instance_history: TaskInstanceHistoryTable;
  xcom: XcomTable;
  variable: VariableTable;
  connection: ConnectionTable;
  pool: PoolTable;
  import_error: ImportErrorTable;
  job: JobTable;
  trigger: TriggerTable;
  task_reschedule: TaskRescheduleTable;
  asset: AssetTable;
  asset_event: AssetEventTable;
  dag_schedule_asset_reference: DagScheduleAssetReferenceTable;
  task_outlet_asset_reference: TaskOutletAssetReferenceTable;
  asset_dag_run_queue: AssetDagRunQueueTable;
  dag_run_asset_event: DagRunAssetEventTable;
  log: LogTable;
  ab_role: RoleTable;
  dag_code: DagCodeTable;
  ab_user: UserTable;
  notification: NotificationTable;
  sla_miss: SlaMissTable;
  deadline: DeadlineTable;
  ab_user_role: UserRoleTable;
  api_token: ApiTokenTable;
  user_session: UserSessionTable;
  updraft_migration: MigrationTable;
}

export type DagRow = Selectable<DagTable>;
export type SerializedDagRow = Selectable<SerializedDagTable>;
export type DagRunRow = Selectable<DagRunTable>;
export type NewDagRun = Insertable<DagRunTable>;
export type TaskInstanceRow = Selectable<TaskInstanceTable>;
export type TaskInstanceUpdate = Updateable<TaskInstanceTable>;
export type TaskInstanceHistoryRow = Selectable<TaskInstanceHistoryTable>;
export type XcomRow = Selectable<XcomTable>;
export type PoolRow = Selectable<PoolTable>;
export type ImportErrorRow = Selectable<ImportErrorTable>;
export type JobRow = Selectable<JobTable>;
export type TriggerRow = Selectable<TriggerTable>;
export type LogRow = Selectable<LogTable>;
export type AssetRow = Selectable<AssetTable>;
export type AssetEventRow = Selectable<AssetEventTable>;
export type NotificationRow = Selectable<NotificationTable>;
export type UserRow = Selectable<UserTable>;
export type ApiTokenRow = Selectable<ApiTokenTable>;

/** JSON text for a jsonb column. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}
