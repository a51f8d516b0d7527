/**
 * Every error code Updraft raises, and what kind of failure each one is. The kind decides the
 * HTTP status an API answer carries (api/problem.ts maps each kind exactly once) and tells a
 * reader who must act: the caller (a bad request), or the operator (a server-side failure).
 * Codes are stable: users and scripts match on them.
 */
export type ErrorKind =
  /** The request or input is malformed: fix it (400). */
  | "invalid"
  /** Well-formed but refused by a rule: fix the value (422). */
  | "unprocessable"
  /** No or bad credentials (401). */
  | "unauthorized"
  /** Credentials that may not do this (403). */
  | "forbidden"
  /** The thing named does not exist (404). */
  | "not_found"
  /** The state changed or the thing exists already (409). */
  | "conflict"
  /** Too large to accept (413). */
  | "too_large"
  /** Too many attempts: wait and retry (429). */
  | "rate_limited"
  /** The server is not set up to do this now (503). */
  | "unavailable"
  /** A failure on Updraft's side or in user code, never a client's fault (500 if it reaches the API). */
  | "internal";

export const ERROR_CODES = {
  // Requests and identifiers
  REQUEST_INVALID: "unprocessable",
  MALFORMED_REQUEST: "invalid",
  PARAMETER_INVALID: "invalid",
  VALUE_INVALID: "invalid",
  BODY_TOO_DEEP: "unprocessable",
  PAYLOAD_TOO_LARGE: "too_large",
  UNSUPPORTED_MEDIA_TYPE: "invalid",
  NOT_FOUND: "not_found",
  INTERNAL_ERROR: "internal",
  ID_INVALID: "invalid",
  RUN_ID_INVALID: "invalid",
  LOGICAL_DATE_INVALID: "invalid",
  TASK_REGEX_INVALID: "invalid",
  STATE_INVALID: "invalid",
  DATE_INVALID: "invalid",
  // Credentials
  UNAUTHORIZED: "unauthorized",
  TOKEN_INVALID: "unauthorized",
  TOKEN_EXPIRED: "unauthorized",
  FORBIDDEN: "forbidden",
  API_SECRET_KEY_MISSING: "internal",
  CSRF_TOKEN_INVALID: "forbidden",
  LOGIN_RATE_LIMITED: "rate_limited",
  // Users, roles and API tokens
  USER_NOT_FOUND: "not_found",
  USER_EXISTS: "conflict",
  USER_INVALID: "unprocessable",
  USER_LAST_ADMIN: "conflict",
  ROLE_NOT_FOUND: "not_found",
  ROLE_EXISTS: "conflict",
  /** A built-in role (Admin, Op, User, Viewer) cannot be changed or deleted. */
  ROLE_BUILT_IN: "conflict",
  /** Only the built-in roles exist: custom roles are not supported (yet). */
  ROLE_CUSTOM_UNSUPPORTED: "invalid",
  PASSWORD_WEAK: "unprocessable",
  API_TOKEN_NOT_FOUND: "not_found",
  SECRET_KEY_MISSING: "internal",
  // DAGs, runs, task instances
  DAG_NOT_FOUND: "not_found",
  DAG_RUN_NOT_FOUND: "not_found",
  TASK_NOT_FOUND: "not_found",
  TASK_INSTANCE_NOT_FOUND: "not_found",
  IMPORT_ERROR_NOT_FOUND: "not_found",
  DAG_SOURCE_NOT_FOUND: "not_found",
  EVENT_LOG_NOT_FOUND: "not_found",
  LOG_NOT_FOUND: "not_found",
  BACKFILL_NOT_FOUND: "not_found",
  DAG_RUN_EXISTS: "conflict",
  DAG_RUN_CONF_INVALID: "unprocessable",
  DAG_RUN_NOTE_INVALID: "unprocessable",
  PARAMS_INVALID: "unprocessable",
  BACKFILL_INVALID: "unprocessable",
  TI_CONFLICT: "conflict",
  TASK_INSTANCE_NOT_QUEUED: "conflict",
  TASKS_TEST_RUN_CHANGED: "conflict",
  TOO_MANY_DAG_RUNS: "unprocessable",
  // XCom, variables, connections, pools
  XCOM_NOT_FOUND: "not_found",
  XCOM_TOO_LARGE: "too_large",
  XCOM_INVALID: "unprocessable",
  XCOM_NOT_SERIALIZABLE: "internal",
  /** multipleOutputs is set but the task returned something other than a plain object. */
  INVALID_MULTIPLE_OUTPUTS: "internal",
  VARIABLE_NOT_FOUND: "not_found",
  VARIABLE_EXISTS: "conflict",
  VARIABLE_INVALID: "unprocessable",
  VARIABLE_NOT_JSON: "internal",
  VARIABLES_FILE_INVALID: "invalid",
  CONNECTION_NOT_FOUND: "not_found",
  CONNECTION_EXISTS: "conflict",
  CONNECTION_INVALID: "unprocessable",
  CONNECTION_ENV_INVALID: "unprocessable",
  CONNECTION_KEY_INVALID: "internal",
  CONNECTION_KEY_MISSING: "unavailable",
  POOL_NOT_FOUND: "not_found",
  POOL_EXISTS: "conflict",
  POOL_INVALID: "unprocessable",
  POOL_DELETE_DEFAULT: "conflict",
  // Configuration and the CLI
  CONFIG_INVALID: "internal",
  CONFIG_KEY_UNKNOWN: "invalid",
  CONFIRMATION_REQUIRED: "invalid",
  CLI_FORWARD_FAILED: "internal",
  CLI_NOT_REMOTE: "invalid",
  DAGS_FOLDER_NOT_FOUND: "not_found",
  INVALID_NUMBER: "invalid",
  INVALID_PORT: "invalid",
  INVALID_CONF: "invalid",
  INVALID_MAP_INDEX: "invalid",
  CLEAN_INVALID: "invalid",
  EXECUTION_API_UNKNOWN: "internal",
  // The metadata database
  DB_CHANNEL_INVALID: "internal",
  DB_CLOSED: "internal",
  DB_LOCKED: "unavailable",
  DB_LOCK_FAILED: "internal",
  DB_MIGRATION_FAILED: "internal",
  DB_NOT_MIGRATED: "unavailable",
  DB_OPEN_FAILED: "internal",
  DB_OPTIONS_INVALID: "internal",
  DB_QUERY_INVALID: "internal",
  DB_SCHEMA_NEWER: "unavailable",
  DB_UNREACHABLE: "unavailable",
  DB_URL_UNSUPPORTED: "internal",
  DB_WORKER_EXITED: "internal",
  // Authoring and parsing DAG files (raised in the DAG processor and the runner)
  CHAIN_LENGTH_MISMATCH: "internal",
  CROSS_DAG_DEPENDENCY: "internal",
  DAG_CYCLE: "internal",
  DAG_FILE_ERROR: "internal",
  DUPLICATE_GROUP_ID: "internal",
  DUPLICATE_TASK_ID: "internal",
  INVALID_BASH_COMMAND: "internal",
  /** A BashOperator's outputEncoding is not an encoding TextDecoder knows. */
  INVALID_OUTPUT_ENCODING: "internal",
  /** result.get(name) on a task without multipleOutputs. */
  INVALID_XCOM_KEY: "internal",
  INVALID_DAG: "internal",
  INVALID_DATE: "internal",
  INVALID_DURATION: "invalid",
  INVALID_EXPAND_VALUE: "internal",
  INVALID_ID: "internal",
  INVALID_MAPPING: "internal",
  INVALID_PARAM_SPEC: "internal",
  INVALID_POOL_SLOTS: "internal",
  INVALID_PRIORITY_WEIGHT: "internal",
  INVALID_RETRY_DELAY: "internal",
  INVALID_SCHEDULE: "internal",
  INVALID_TASK: "internal",
  INVALID_TIMEZONE: "internal",
  INVALID_TRIGGER_RULE: "internal",
  INVALID_TRY_NUMBER: "internal",
  INVALID_WEIGHT_RULE: "internal",
  MISSING_START_DATE: "internal",
  MISSING_TASK_ID: "internal",
  NOT_MAPPABLE: "internal",
  NOT_SERIALIZABLE: "internal",
  OPERATOR_NOT_SUPPORTED: "internal",
  OUTSIDE_DAG: "internal",
  UNKNOWN_OPTION: "internal",
  UNKNOWN_UPSTREAM_TASK: "internal",
  UNKNOWN_XCOM_SOURCE: "internal",
  // Running tasks (raised in the runner)
  EXECUTION_API_CONFLICT: "conflict",
  EXECUTION_API_ERROR: "internal",
  EXECUTION_API_NOT_FOUND: "not_found",
  EXECUTION_API_TOO_LARGE: "too_large",
  EXECUTION_API_UNREACHABLE: "unavailable",
  INVALID_BRANCH_RESULT: "internal",
  INVALID_MACRO_ARGUMENT: "internal",
  INVALID_START_RESPONSE: "internal",
  MAP_INDEX_MISSING: "internal",
  MAP_INDEX_OUT_OF_RANGE: "internal",
  TASK_INTERRUPTED: "internal",
  TEMPLATE_ERROR: "internal",
  TEMPLATE_UNDEFINED: "internal",
  UNKNOWN_MACRO: "internal",
  UNSUPPORTED_DATE_FORMAT: "internal",
  XCOM_PUSH_FAILED: "internal",
  // Kubernetes (the executor and the operators; issue 10). Add codes here, one block per helper.
  KUBERNETES_CONFIG: "invalid",
  KUBERNETES_API: "unavailable",
  // The Kubernetes operators: a Pod or SparkApplication that failed, did not start, or returned bad XCom.
  KUBERNETES_POD_FAILED: "internal",
  KUBERNETES_POD_START_TIMEOUT: "internal",
  KUBERNETES_SPARK_FAILED: "internal",
  KUBERNETES_XCOM_INVALID: "internal",
  // The KubernetesExecutor
  KUBERNETES_POD_TEMPLATE: "invalid",
  KUBERNETES_POD_OVERRIDE: "invalid",
  UNKNOWN_EXECUTOR: "invalid",
  INVALID_WORKLOAD: "invalid",
  // The QueueExecutor and its workers (issue 12, helper "queue")
  QUEUE_BROKER_URL_INVALID: "invalid",
  QUEUE_UNAVAILABLE: "unavailable",
  QUEUE_NAME_INVALID: "invalid",
  WORKER_OPTION_INVALID: "invalid",
  // Workers' registry and API (issue 12, helper "workers")
  WORKER_NOT_FOUND: "not_found",
  WORKERS_REDIS_UNREACHABLE: "unavailable",
  WORKER_ALIVE: "conflict",
  // Several executors at once (issue 12, helper "multi")
  /** core.executor names an executor this build cannot start yet. */
  // Hooks and operators (issue 13, helper "ops")
  CONNECTION_TYPE_MISMATCH: "invalid",
  OPERATOR_FAILED: "internal",
  HTTP_REQUEST_FAILED: "internal",
  HTTP_RESPONSE_CHECK_FAILED: "internal",
  SQL_CHECK_FAILED: "internal",
  SENSOR_TIMEOUT: "internal",
  SENSOR_MODE_UNSUPPORTED: "invalid",
  EXTERNAL_PROCESS_FAILED: "internal",
  // Reschedule, deferral and the triggerer (issue 13, helper "triggerer")
  TRIGGER_INVALID: "invalid",
  TRIGGER_NOT_FOUND: "not_found",
  TRIGGER_FAILED: "internal",
  TASK_DEFERRAL_INVALID: "invalid",
  TASK_DEFERRAL_TIMEOUT: "internal",
  TRIGGERER_OPTION_INVALID: "invalid",
  // Assets and data-aware scheduling (issue 13, helper "assets")
  ASSET_URI_INVALID: "invalid",
  ASSET_INVALID: "invalid",
  ASSET_NOT_FOUND: "not_found",
  // Object storage: S3 and GCS (issue 13, helper "storage")
  S3_BUCKET_MISSING: "invalid",
  S3_KEY_EXISTS: "conflict",
  S3_REQUEST_FAILED: "internal",
  S3_DELETE_FAILED: "internal",
  GCS_REQUEST_FAILED: "internal",
  GCS_CONNECTION_INVALID: "invalid",
  STORAGE_ARGUMENTS_INVALID: "invalid",
  // TriggerDagRunOperator, ExternalTaskSensor, templates (issue 13, helper "control")
  TRIGGERED_DAG_RUN_FAILED: "internal",
  EXTERNAL_TASK_FAILED: "internal",
  TASK_GROUP_NOT_FOUND: "not_found",
  TEMPLATE_XCOM_NOT_FETCHED: "internal",
  // ExternalTaskMarker and triggerer metrics (issue 13, helper "extras")
  EXTERNAL_TASK_MARKER_DEPTH_EXCEEDED: "invalid",
  EXTERNAL_TASK_MARKER_TARGET_NOT_FOUND: "not_found",
  EXTERNAL_TASK_MARKER_DATE_INVALID: "invalid",
  // Tests of the project itself
  TEST_POSTGRES_UNREACHABLE: "unavailable",
  TEST_REDIS_UNREACHABLE: "unavailable",
} as const satisfies Record<string, ErrorKind>;

/** A stable error code (see ERROR_CODES). */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `code` is one of Updraft's error codes. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
