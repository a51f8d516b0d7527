import { z } from "zod";

/**
 * The contract between task runners and the API server's execution API. Runners never touch the
 * database: everything a running task reads or writes goes through these routes, authorised by a
 * token scoped to one task instance try. Both sides validate with these schemas.
 *
 * Routes (prefix `/execution`, header `Authorization: Bearer <token>`):
 * - `POST /execution/ti/start`      StartRequest → StartResponse | 409 (not queued for this try)
 * - `POST /execution/ti/heartbeat`  HeartbeatRequest → 204 | 409 (the try is no longer running: stop)
 * - `POST /execution/ti/finish`     FinishRequest → FinishResponse | 409 (late report: nothing changed)
 *   (may carry the return value as XCom, and hand the runner its next try: decision 0011)
 * - `POST /execution/ti/defer`       DeferRequest → { state: "deferred" } | 409
 * - `POST /execution/ti/reschedule`  RescheduleRequest → { state: "up_for_reschedule" } | 409
 * - `POST /execution/ti/rendered-fields` { fields } → 204
 * - `GET  /execution/xcom/:dagId/:runId/:taskId?key=&map_index=` → XComValue | 404
 *   (only XComs of the token's own DAG run can be read)
 * - `POST /execution/xcom`          XComPushRequest → 204 | 413 (too large, message names task and size)
 * - `GET  /execution/variables/:key` → { key, value } | 404
 * - `GET  /execution/connections/:connId` → ConnectionPayload | 404
 * Errors are `application/problem+json`: { type, title, status, detail, code }.
 */

export const TaskInstanceKeySchema = z.object({
  dag_id: z.string(),
  run_id: z.string(),
  task_id: z.string(),
  map_index: z.number().int(),
});
export type TaskInstanceKey = z.infer<typeof TaskInstanceKeySchema>;

/** What an execution token grants: one try of one task instance, until `exp` (epoch seconds). */
export const TokenClaimsSchema = z.object({
  ti: TaskInstanceKeySchema,
  try_number: z.number().int().min(1),
  exp: z.number(),
  /** "task" tokens may start/finish; "callback" tokens may only read. */
  scope: z.enum(["task", "callback"]),
});
export type TokenClaims = z.infer<typeof TokenClaimsSchema>;

/** Work the scheduler hands to an executor, which hands it to a task runner. */
export const TaskWorkloadSchema = z.object({
  kind: z.literal("task"),
  ti: TaskInstanceKeySchema,
  try_number: z.number().int().min(1),
  /** Absolute path of the DAG file that defines the task. */
  fileloc: z.string(),
  token: z.string(),
  /** Base URL of the API server, e.g. `http://127.0.0.1:8080`. */
  api_url: z.string(),
  /** Absolute path of this try's log file. */
  log_path: z.string(),
  fresh_process: z.boolean(),
  queue: z.string(),
  priority_weight: z.number(),
  /** Execution timeout of the try in ms, or null. */
  execution_timeout_ms: z.number().nullable(),
  /** The task's executorConfig (e.g. `podOverride` for the KubernetesExecutor), when it has one. */
  executor_config: z.record(z.string(), z.unknown()).optional(),
});
export type TaskWorkload = z.infer<typeof TaskWorkloadSchema>;

/** A callback to run in a runner (never in the scheduler): task or DAG level. */
export const CallbackWorkloadSchema = z.object({
  kind: z.literal("callback"),
  callback: z.enum([
    "on_failure",
    "on_success",
    "on_retry",
    "dag_success",
    "dag_failure",
    "sla_miss",
    "deadline_miss",
  ]),
  /** For task callbacks the task instance; for DAG callbacks the run's last finished task instance. */
  ti: TaskInstanceKeySchema,
  try_number: z.number().int().min(1),
  fileloc: z.string(),
  token: z.string(),
  api_url: z.string(),
  log_path: z.string(),
  /** For sla_miss: the task ids that missed. */
  task_ids: z.array(z.string()).optional(),
  /** For deadline_miss: the alert the run missed. */
  deadline: z
    .object({
      alert_index: z.number().int().min(0),
      reference_type: z.string(),
      deadline_time: z.string(),
      logical_date: z.string().nullable(),
    })
    .optional(),
  error: z.string().nullable().optional(),
});
export type CallbackWorkload = z.infer<typeof CallbackWorkloadSchema>;

export type Workload = TaskWorkload | CallbackWorkload;
export const WorkloadSchema = z.discriminatedUnion("kind", [TaskWorkloadSchema, CallbackWorkloadSchema]);

export const StartRequestSchema = z.object({ hostname: z.string(), pid: z.number().int() });
export type StartRequest = z.infer<typeof StartRequestSchema>;

/** Everything the runner needs to build the TaskContext, returned by a successful start. */
export const StartResponseSchema = z.object({
  dag_run: z.object({
    dag_id: z.string(),
    run_id: z.string(),
    run_type: z.enum(["scheduled", "manual", "backfill", "asset_triggered"]),
    logical_date: z.string(),
    data_interval_start: z.string(),
    data_interval_end: z.string(),
    start_date: z.string().nullable(),
    conf: z.record(z.string(), z.unknown()),
    /** An asset-triggered run: the events that triggered it, oldest first (decision 0031). */
    triggering_asset_events: z
      .array(
        z.object({
          id: z.number().int(),
          uri: z.string(),
          name: z.string(),
          group: z.string(),
          asset_extra: z.record(z.string(), z.unknown()),
          extra: z.record(z.string(), z.unknown()),
          timestamp: z.string(),
          source_dag_id: z.string().nullable(),
          source_run_id: z.string().nullable(),
          source_task_id: z.string().nullable(),
          source_map_index: z.number().int(),
        }),
      )
      .optional(),
  }),
  /** DAG params with the run's conf applied (validated when the run was created). */
  params: z.record(z.string(), z.unknown()),
  max_tries: z.number().int(),
  /** Seconds between heartbeats the runner must send. */
  heartbeat_interval_s: z.number(),
  /** Upstream XComs the task's arguments refer to, prefetched: "task_id|key|map_index" → value. */
  prefetched_xcoms: z.record(z.string(), z.unknown()).optional(),
  /** Values to mask in logs (connection passwords, sensitive variables). */
  mask_secrets: z.array(z.string()).optional(),
  /**
   * Set when this start resumes a deferred try (decision 0030): the method to call and its kwargs
   * (the trigger's event under `event`). `__fail__` means the trigger timed out: the try fails.
   */
  next_method: z.string().nullable().optional(),
  next_kwargs: z.record(z.string(), z.unknown()).nullable().optional(),
  /** A sensor in mode "reschedule": the start of the try's first poke and the pokes before this one. */
  reschedules: z.object({ first_poke_at: z.string(), count: z.number().int() }).nullable().optional(),
});
export type StartResponse = z.infer<typeof StartResponseSchema>;

export const HeartbeatRequestSchema = z.object({ hostname: z.string(), pid: z.number().int() });

export const FinishRequestSchema = z.object({
  /** "failed" becomes up_for_retry on the server when tries remain, unless no_retry. */
  state: z.enum(["success", "failed", "skipped"]),
  no_retry: z.boolean().optional(),
  error: z.string().nullable().optional(),
  /** Branch tasks: the direct downstream task ids to follow; the others are skipped. */
  follow_task_ids: z.array(z.string()).nullable().optional(),
  /** Short-circuit tasks: true skips every downstream task. */
  skip_downstream: z.boolean().optional(),
  /** For a mapped upstream of a mapped task: how many elements the pushed list has. */
  return_value_length: z.number().int().nullable().optional(),
  /**
   * The task's return value, stored as its `return_value` XCom by the same statement that records
   * a successful end (one request instead of a push and a finish). Refused with 413 like a push.
   */
  return_value: z.object({ value: z.unknown() }).optional(),
  /**
   * Further XComs stored with the return value by the same statement: a `multipleOutputs` task's
   * properties, one per key. Each is refused with 413 like a push when too large.
   */
  xcoms: z
    .array(z.object({ key: z.string().min(1), value: z.unknown() }))
    .max(1000)
    .optional(),
  /** The mapped instance's name, rendered from the task's mapIndexTemplate (Airflow rendered_map_index). */
  rendered_map_index: z.string().max(250).nullable().optional(),
  /**
   * Extra the task gave the asset events of its outlets (Airflow's `outlet_events[asset].extra`),
   * by asset URI; only for a success, and only for the task's own outlets (decision 0031).
   */
  outlet_events: z
    .array(z.object({ uri: z.string().max(1500), extra: z.record(z.string(), z.unknown()) }))
    .max(1000)
    .optional(),
  /**
   * The runner can run another try right away: the server may hand it the next try in the same
   * answer (already running, with its token and start), when that keeps every limit and priority.
   */
  accept_next: z.object({ hostname: z.string(), pid: z.number().int() }).optional(),
});
export type FinishRequest = z.infer<typeof FinishRequestSchema>;

export const FinishResponseSchema = z.object({
  /** The state the server recorded (e.g. up_for_retry for a failed try with tries left). */
  state: z.string(),
  /** The next try, handed to this runner (see `accept_next`): it is running already. */
  next: z.object({ workload: TaskWorkloadSchema, start: StartResponseSchema }).nullable().optional(),
});
export type FinishResponse = z.infer<typeof FinishResponseSchema>;

/**
 * `POST /execution/ti/defer`: the running try ends as `deferred` on a trigger (decision 0030). The
 * try is not over: when the trigger fires it is scheduled again, and its runner calls next_method.
 */
export const DeferRequestSchema = z.object({
  classpath: z.string().min(1).max(1000),
  trigger_kwargs: z.record(z.string(), z.unknown()),
  next_method: z.string().min(1).max(200),
  next_kwargs: z.record(z.string(), z.unknown()).optional(),
  /** Seconds the trigger may wait before the try fails; null for no limit. */
  timeout_s: z.number().positive().nullable().optional(),
});
export type DeferRequest = z.infer<typeof DeferRequestSchema>;

/** `POST /execution/ti/reschedule`: a sensor's poke was not done; poke again at reschedule_date. */
export const RescheduleRequestSchema = z.object({ reschedule_date: z.iso.datetime({ offset: true }) });
export type RescheduleRequest = z.infer<typeof RescheduleRequestSchema>;

export const XComPushRequestSchema = z.object({ key: z.string().min(1), value: z.unknown() });
export const XComValueSchema = z.object({ key: z.string(), value: z.unknown() });

export const ConnectionPayloadSchema = z.object({
  conn_id: z.string(),
  conn_type: z.string(),
  host: z.string().nullable(),
  schema: z.string().nullable(),
  login: z.string().nullable(),
  password: z.string().nullable(),
  port: z.number().nullable(),
  extra: z.record(z.string(), z.unknown()),
});
export type ConnectionPayload = z.infer<typeof ConnectionPayloadSchema>;
