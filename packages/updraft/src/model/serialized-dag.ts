import { z } from "zod";
import { TRIGGER_RULES } from "../sdk/trigger-rule.js";
import type { AssetConditionJson } from "./asset-condition.js";

/**
 * The serialized DAG: everything the scheduler, API and UI need, as versioned JSON, so that they
 * never run user code. Keys are snake_case (Airflow's names) because the REST API shows them.
 * Bump SERIALIZED_DAG_VERSION on any incompatible change and keep reading older versions.
 */
export const SERIALIZED_DAG_VERSION = 1;

const json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

/** A reference to another task's XCom inside a field value, as written in the DAG file. */
export const XComRefSchema = z.object({ __xcom__: z.object({ task_id: z.string(), key: z.string() }) });
export type XComRef = z.infer<typeof XComRefSchema>;

export const ParamSpecSchema = z.object({
  default: json.optional(),
  type: z.union([z.string(), z.array(z.string())]).optional(),
  enum: z.array(json).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  minLength: z.number().optional(),
  maxLength: z.number().optional(),
  pattern: z.string().optional(),
  title: z.string().optional(),
  description: z.string().optional(),
});

/** An asset as a DAG file declares it (decision 0031). */
export const AssetRefSchema = z.object({
  uri: z.string(),
  name: z.string(),
  group: z.string(),
  extra: z.record(z.string(), json),
});

const AssetConditionSchema: z.ZodType<AssetConditionJson> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal("asset"), uri: z.string() }),
    z.object({ type: z.enum(["all", "any"]), objects: z.array(AssetConditionSchema) }),
  ]),
);

export const SerializedTaskSchema = z.object({
  task_id: z.string(),
  /** Operator type name, e.g. "BashOperator", "@task", "@task.branch". */
  operator: z.string(),
  task_group_id: z.string().nullable(),
  upstream_task_ids: z.array(z.string()),
  downstream_task_ids: z.array(z.string()),
  trigger_rule: z.enum(TRIGGER_RULES as unknown as [string, ...string[]]),
  owner: z.string(),
  retries: z.number().int().min(0),
  retry_delay_ms: z.number().min(0),
  retry_exponential_backoff: z.boolean(),
  max_retry_delay_ms: z.number().min(0).nullable(),
  execution_timeout_ms: z.number().min(0).nullable(),
  pool: z.string(),
  pool_slots: z.number().int().min(1),
  priority_weight: z.number().int(),
  weight_rule: z.enum(["downstream", "upstream", "absolute"]),
  queue: z.string(),
  sla_ms: z.number().min(0).nullable(),
  email: z.array(z.string()),
  email_on_failure: z.boolean(),
  email_on_retry: z.boolean(),
  has_on_failure_callback: z.boolean(),
  has_on_success_callback: z.boolean(),
  has_on_retry_callback: z.boolean(),
  /** The runner calls onExecuteCallback: an EmptyOperator with one cannot be finished by the scheduler. */
  has_on_execute_callback: z.boolean().default(false),
  has_on_skipped_callback: z.boolean().default(false),
  /**
   * The executor named by the task's `executor` option (Airflow's BaseOperator.executor); absent
   * or null: the default, the first of core.executor. Stored on each task instance as written.
   */
  executor: z.string().nullable().optional(),
  executor_config: z.record(z.string(), json),
  max_active_tis_per_dag: z.number().int().min(1).nullable(),
  // Added after version 1 was first written: defaults keep older stored DAGs readable.
  max_active_tis_per_dagrun: z.number().int().min(1).nullable().default(null),
  depends_on_past: z.boolean().default(false),
  ignore_first_depends_on_past: z.boolean().default(true),
  wait_for_downstream: z.boolean().default(false),
  /** A short-circuit's falsy result skips everything downstream (true) or the direct downstream only. */
  ignore_downstream_trigger_rules: z.boolean().default(true),
  /** A teardown whose failure fails the run. */
  on_failure_fail_dagrun: z.boolean().default(false),
  fresh_process: z.boolean(),
  start_date: z.string().nullable(),
  end_date: z.string().nullable(),
  do_xcom_push: z.boolean(),
  /** Airflow multiple_outputs: the returned object's properties are pushed as XComs of their own. */
  multiple_outputs: z.boolean().default(false),
  /** Airflow map_index_template: rendered by the runner into the instance's rendered_map_index. */
  map_index_template: z.string().nullable().default(null),
  doc_md: z.string().nullable(),
  is_setup: z.boolean(),
  is_teardown: z.boolean(),
  /** "branch": the result names the downstream tasks to follow; "short_circuit": falsy skips downstream. */
  branch_kind: z.enum(["branch", "short_circuit"]).nullable(),
  /** Names of fields rendered as templates at run time. */
  template_fields: z.array(z.string()),
  /** Operator arguments as written (templates unrendered; XCom references as `{__xcom__}`). */
  fields: z.record(z.string(), json),
  /** For a mapped task: field (or argument position) → literal list or XCom reference. */
  expand: z.record(z.string(), json).nullable(),
  /** Assets a success of this task updates (decision 0031); absent when none. */
  outlets: z.array(AssetRefSchema).optional(),
  /** Assets the task reads (informational); absent when none. */
  inlets: z.array(AssetRefSchema).optional(),
});
export type SerializedTask = z.infer<typeof SerializedTaskSchema>;

export const SerializedDagSchema = z.object({
  __version: z.literal(SERIALIZED_DAG_VERSION),
  dag_id: z.string(),
  fileloc: z.string(),
  description: z.string().nullable(),
  /** The schedule as written: cron, preset, duration, or null for manual only. */
  schedule: z.union([z.string(), z.number()]).nullable(),
  timetable_summary: z.string(),
  /** IANA timezone, or null for `core.default_timezone`. */
  timezone: z.string().nullable(),
  start_date: z.string().nullable(),
  end_date: z.string().nullable(),
  catchup: z.boolean(),
  /** null: use the configured default. */
  max_active_runs: z.number().int().min(1).nullable(),
  max_active_tasks: z.number().int().min(1).nullable(),
  dagrun_timeout_ms: z.number().min(0).nullable(),
  tags: z.array(z.string()),
  owners: z.array(z.string()),
  params: z.record(z.string(), ParamSpecSchema),
  doc_md: z.string().nullable(),
  has_on_success_callback: z.boolean(),
  has_on_failure_callback: z.boolean(),
  has_sla_miss_callback: z.boolean(),
  /**
   * Deadline alerts (Airflow 3.1's `deadline`), in the DAG's order; present only when the DAG has
   * some, so other DAGs keep their hash. A fixed reference's `datetime` is ISO 8601.
   */
  deadline: z
    .array(
      z.object({
        reference_type: z.enum([
          "DagRunLogicalDateDeadline",
          "DagRunQueuedAtDeadline",
          "FixedDatetimeDeadline",
        ]),
        datetime: z.string().nullable(),
        interval_ms: z.number(),
      }),
    )
    .optional(),
  is_paused_upon_creation: z.boolean().nullable(),
  /** Airflow's render_template_as_native_obj; present only when true, so other DAGs keep their hash. */
  render_template_as_native_obj: z.boolean().optional(),
  /**
   * The asset condition the DAG is scheduled on (decision 0031), with the assets it names; absent
   * for a DAG scheduled on time only. `schedule` then holds the time part of an assets-or-time
   * schedule, or null.
   */
  asset_condition: AssetConditionSchema.optional(),
  schedule_assets: z.array(AssetRefSchema).optional(),
  /** Airflow fail_stop: a failed task instance stops the rest of the run. */
  fail_stop: z.boolean().default(false),
  /** Pause after this many consecutive failed runs (0: off); null: core.max_consecutive_failed_dag_runs_per_dag. */
  max_consecutive_failed_dag_runs: z.number().int().min(0).nullable().default(null),
  task_groups: z.array(
    z.object({ group_id: z.string(), parent_group_id: z.string().nullable(), tooltip: z.string() }),
  ),
  tasks: z.array(SerializedTaskSchema),
  /** sha256 of the canonical JSON of everything above; unchanged DAGs are not rewritten. */
  dag_hash: z.string(),
});
export type SerializedDag = z.infer<typeof SerializedDagSchema>;

/** Reads a serialized DAG from the database, checking its version and shape. */
export function parseSerializedDag(data: unknown): SerializedDag {
  return SerializedDagSchema.parse(data);
}

/** True for a field value that stands for another task's XCom. */
export function isXComRef(value: unknown): value is XComRef {
  return typeof value === "object" && value !== null && "__xcom__" in value;
}
