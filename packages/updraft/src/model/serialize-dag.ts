import { createHash } from "node:crypto";
import { parseDuration } from "../common/duration.js";
import { UpdraftError } from "../common/errors.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { Dag } from "../sdk/dag.js";
import { type DeadlineAlert, deadlineReferenceType } from "../sdk/deadline.js";
import { MAPPED_VALUE } from "../sdk/mapping.js";
import { isParam } from "../sdk/options.js";
import { parseSchedule } from "./timetable.js";
import {
  assetList,
  conditionAssets,
  conditionJson,
  splitSchedule,
  type AssetCondition,
} from "../sdk/assets.js";
import { TaskFlowOperator } from "../sdk/taskflow.js";
import { isXComArg } from "../sdk/xcom-arg.js";
import { EXECUTOR_NAMES, knownExecutorName, type ExecutorName } from "./executor-names.js";
import { SERIALIZED_DAG_VERSION, type SerializedDag, type SerializedTask } from "./serialized-dag.js";
import { parseDateInZone } from "./zoned-date.js";

const DEFAULT_RETRY_DELAY_MS = 300_000;

/** Converts a field value to JSON as written: XCom references become `{__xcom__}` markers. */
function toJson(value: unknown, where: string): unknown {
  if (value === undefined) return null;
  if (value === MAPPED_VALUE) return { __mapped__: true };
  if (isXComArg(value)) return { __xcom__: { task_id: value.operator.taskId, key: value.key } };
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toJson(v, where));
  if (typeof value === "function") {
    throw new UpdraftError(
      "NOT_SERIALIZABLE",
      `${where}: a function cannot be stored as a task argument. Pass data, not code.`,
    );
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v, where);
    return out;
  }
  return value;
}

function ms(value: string | number | undefined, field: string): number | null {
  return value === undefined ? null : parseDuration(value, field);
}

function serializeDeadlines(
  value: DeadlineAlert | readonly DeadlineAlert[] | undefined,
  where: string,
): Pick<SerializedDag, "deadline"> {
  if (value === undefined) return {};
  const alerts: readonly DeadlineAlert[] = Array.isArray(value) ? value : [value as DeadlineAlert];
  if (alerts.length === 0) return {};
  return {
    deadline: alerts.map((a, i) => {
      const field = `${where}: deadline[${i}]`;
      if (typeof a.callback !== "function")
        throw new UpdraftError(
          "INVALID_DAG",
          `${field}: callback must be a function (it receives the missed deadline).`,
        );
      const ref: unknown = a.reference;
      const fixed = ref instanceof Date;
      if (!fixed && ref !== "logicalDate" && ref !== "queuedAt")
        throw new UpdraftError(
          "INVALID_DAG",
          `${field}: reference must be "logicalDate", "queuedAt" or a Date, not ${JSON.stringify(ref)}.`,
        );
      if (fixed && Number.isNaN(ref.getTime()))
        throw new UpdraftError("INVALID_DAG", `${field}: reference is an invalid Date.`);
      const interval = a.interval;
      const intervalMs =
        typeof interval === "number" && Number.isFinite(interval)
          ? interval
          : typeof interval === "string" && interval.startsWith("-")
            ? -parseDuration(interval.slice(1), `${field}: interval`)
            : parseDuration(interval, `${field}: interval`);
      return {
        reference_type: deadlineReferenceType(a.reference) as "FixedDatetimeDeadline",
        datetime: fixed ? ref.toISOString() : null,
        interval_ms: intervalMs,
      };
    }),
  };
}

function isoOrNull(value: Date | string | undefined, tz: string, field: string): string | null {
  return value === undefined ? null : parseDateInZone(value, tz, field).toISOString();
}

/**
 * A task's `executor` option as its canonical name (`{}` when unset); an unknown name is refused
 * with the known ones. Whether `core.executor` lists it is the DAG processor's check.
 */
function executorOption(value: unknown, where: string): { executor?: ExecutorName } {
  if (value === undefined || value === null) return {};
  const known = typeof value === "string" ? knownExecutorName(value) : undefined;
  if (known === undefined)
    throw new UpdraftError(
      "UNKNOWN_EXECUTOR",
      `${where}: executor ${JSON.stringify(value)} is not an executor of Updraft. Use one of ${EXECUTOR_NAMES.join(", ")}, or leave it unset for the default (the first of core.executor).`,
    );
  return { executor: known };
}

function serializeTask(task: BaseOperator, tz: string): SerializedTask {
  const o = task.options;
  const where = `Task "${task.taskId}"`;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(task.fields))
    if (v !== undefined) fields[k] = toJson(v, `${where}, field ${k}`);
  const expand = task.mapped
    ? (toJson(task.mapped.expand, `${where}, expand`) as Record<string, unknown>)
    : null;
  // TaskFlow's @task.branch/@task.short_circuit, and operators that branch (LatestOnlyOperator…).
  const kind = (task as { kind?: unknown }).kind;
  const branchKind = kind === "branch" || kind === "short_circuit" ? kind : null;
  return {
    task_id: task.taskId,
    operator: task.operatorName,
    task_group_id: task.group?.groupId ?? null,
    upstream_task_ids: [...task.upstreamTaskIds].sort(),
    downstream_task_ids: [...task.downstreamTaskIds].sort(),
    trigger_rule: o.triggerRule ?? "all_success",
    owner: o.owner ?? "updraft",
    retries: o.retries ?? 0,
    retry_delay_ms: ms(o.retryDelay, `${where}: retryDelay`) ?? DEFAULT_RETRY_DELAY_MS,
    retry_exponential_backoff: o.retryExponentialBackoff ?? false,
    max_retry_delay_ms: ms(o.maxRetryDelay, `${where}: maxRetryDelay`),
    execution_timeout_ms: ms(o.executionTimeout, `${where}: executionTimeout`),
    pool: o.pool ?? "default_pool",
    pool_slots: o.poolSlots ?? 1,
    priority_weight: o.priorityWeight ?? 1,
    weight_rule: o.weightRule ?? "downstream",
    queue: o.queue ?? "default",
    sla_ms: ms(o.sla, `${where}: sla`),
    email: o.email === undefined ? [] : Array.isArray(o.email) ? [...o.email] : [o.email],
    email_on_failure: o.emailOnFailure ?? true,
    email_on_retry: o.emailOnRetry ?? true,
    has_on_failure_callback: o.onFailureCallback !== undefined,
    has_on_success_callback: o.onSuccessCallback !== undefined,
    has_on_retry_callback: o.onRetryCallback !== undefined,
    has_on_execute_callback: o.onExecuteCallback !== undefined,
    has_on_skipped_callback: o.onSkippedCallback !== undefined,
    // Omitted when unset, so that the hash of a DAG that names no executor is what it was before.
    ...executorOption(o.executor, where),
    executor_config: (toJson(o.executorConfig ?? {}, `${where}: executorConfig`) ?? {}) as Record<
      string,
      unknown
    >,
    max_active_tis_per_dag: o.maxActiveTisPerDag ?? null,
    max_active_tis_per_dagrun: o.maxActiveTisPerDagrun ?? null,
    // airflow/models/baseoperator.py: wait_for_downstream sets depends_on_past.
    depends_on_past: (o.dependsOnPast ?? false) || (o.waitForDownstream ?? false),
    ignore_first_depends_on_past: o.ignoreFirstDependsOnPast ?? true,
    wait_for_downstream: o.waitForDownstream ?? false,
    ignore_downstream_trigger_rules:
      task instanceof TaskFlowOperator ? task.ignoreDownstreamTriggerRules : true,
    on_failure_fail_dagrun: task.isTeardown && task.onFailureFailDagrun,
    fresh_process: o.freshProcess ?? false,
    start_date: isoOrNull(o.startDate, tz, `${where}: startDate`),
    end_date: isoOrNull(o.endDate, tz, `${where}: endDate`),
    do_xcom_push: o.doXcomPush ?? true,
    multiple_outputs: o.multipleOutputs ?? false,
    map_index_template: o.mapIndexTemplate ?? null,
    doc_md: o.docMd ?? null,
    is_setup: task.isSetup,
    is_teardown: task.isTeardown,
    branch_kind: branchKind,
    template_fields: [...task.templateFields],
    fields,
    expand,
    ...taskAssets(o.outlets, o.inlets, where),
  } as SerializedTask;
}

/** A task's outlets and inlets; omitted when it has none, so that other DAGs keep their hash. */
function taskAssets(outlets: unknown, inlets: unknown, where: string): Partial<SerializedTask> {
  const out = assetList(outlets, `${where}: outlets`).map((a) => a.toRef());
  const ins = assetList(inlets, `${where}: inlets`).map((a) => a.toRef());
  return { ...(out.length > 0 ? { outlets: out } : {}), ...(ins.length > 0 ? { inlets: ins } : {}) };
}

/** The asset condition a DAG is scheduled on, and its assets; omitted for a DAG on time only. */
function scheduleAssets(condition: AssetCondition | null): Partial<SerializedDag> {
  if (condition === null) return {};
  return {
    asset_condition: conditionJson(condition),
    schedule_assets: [...conditionAssets(condition).values()].map((a) => a.toRef()),
  };
}

function serializeParams(params: Record<string, unknown> | undefined): SerializedDag["params"] {
  const out: SerializedDag["params"] = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (isParam(value)) {
      const spec: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) spec[k] = toJson(v, `param ${name}`);
      out[name] = spec;
    } else {
      out[name] = { default: toJson(value, `param ${name}`) };
    }
  }
  return out;
}

/** Stable JSON (sorted keys) so that the hash only changes when the DAG does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The DAG's timetable summary; checks its schedule (INVALID_SCHEDULE). Airflow shows "Asset" for
 * a DAG scheduled on assets and "Asset or <time>" for assets-or-time.
 */
export function timetableSummary(dag: Dag): string {
  const split = splitSchedule(dag.options.schedule, dag.dagId);
  const summary = parseSchedule(split.time, dag.options.timezone ?? "UTC").summary;
  if (split.condition === null) return summary;
  return split.time === null ? "Asset" : `Asset or ${summary}`;
}

/**
 * Turns a DAG built by the SDK into its serialized form. Throws an UpdraftError for values that
 * cannot be stored (a function as an argument, a bad duration or date).
 */
export function serializeDag(dag: Dag, fileloc: string, timetableSummary: string): SerializedDag {
  const o = dag.options;
  const tz = o.timezone ?? "UTC";
  const where = `DAG "${dag.dagId}"`;
  const tasks = [...dag.tasks.values()].map((t) => serializeTask(t, tz));
  const split = splitSchedule(o.schedule, dag.dagId);
  const body: Omit<SerializedDag, "dag_hash"> = {
    __version: SERIALIZED_DAG_VERSION,
    dag_id: dag.dagId,
    fileloc,
    description: o.description ?? null,
    schedule: split.time,
    timetable_summary: timetableSummary,
    timezone: o.timezone ?? null,
    start_date: isoOrNull(o.startDate, tz, `${where}: startDate`),
    end_date: isoOrNull(o.endDate, tz, `${where}: endDate`),
    catchup: o.catchup ?? false,
    max_active_runs: o.maxActiveRuns ?? null,
    max_active_tasks: o.maxActiveTasks ?? null,
    dagrun_timeout_ms: ms(o.dagrunTimeout, `${where}: dagrunTimeout`),
    tags: [...(o.tags ?? [])],
    owners: [...new Set(tasks.map((t) => t.owner))].sort(),
    params: serializeParams(o.params),
    doc_md: o.docMd ?? null,
    has_on_success_callback: o.onSuccessCallback !== undefined,
    has_on_failure_callback: o.onFailureCallback !== undefined,
    has_sla_miss_callback: o.slaMissCallback !== undefined,
    ...serializeDeadlines(o.deadline, where),
    is_paused_upon_creation: o.isPausedUponCreation ?? null,
    ...(o.renderTemplateAsNativeObj === true ? { render_template_as_native_obj: true } : {}),
    ...scheduleAssets(split.condition),
    fail_stop: o.failStop ?? false,
    max_consecutive_failed_dag_runs: o.maxConsecutiveFailedDagRuns ?? null,
    task_groups: [...dag.groups.values()].map((g) => ({
      group_id: g.groupId,
      parent_group_id: g.parent?.groupId ?? null,
      tooltip: g.tooltip,
    })),
    tasks,
  };
  const dagHash = createHash("sha256").update(canonicalJson(body)).digest("hex");
  return { ...body, dag_hash: dagHash };
}
