export { dag, Dag } from "./dag.js";
export { task, TaskFlowOperator } from "./taskflow.js";
export type {
  TaskFn,
  TaskFlowOptions,
  TaskFlowKind,
  TaskArgs,
  TaskLists,
  ShortCircuitOptions,
  TeardownTaskOptions,
} from "./taskflow.js";
export { BaseOperator, isOperator, wire } from "./base-operator.js";
export type {
  ExecuteInput,
  ResumeInput,
  GraphNode,
  Wireable,
  MappedInput,
  TeardownOptions,
} from "./base-operator.js";
export { XComArg, isXComArg } from "./xcom-arg.js";
export type { XComInput } from "./xcom-arg.js";
export { chain } from "./chain.js";
export { asset, assetAll, assetAny, and, or, isAsset, Asset, AssetBoolean } from "./assets.js";
export type { AssetOptions, AssetCondition, AssetOrTimeSchedule, AssetSchedule } from "./assets.js";
export { taskGroup, TaskGroup } from "./task-group.js";
export type { TaskGroupOptions } from "./task-group.js";
export { TriggerRule, TRIGGER_RULES, WeightRule } from "./trigger-rule.js";
export { param, isParam, TASK_OPTION_NAMES, DAG_OPTION_NAMES } from "./options.js";
export type {
  TaskOptions,
  DagOptions,
  ParamSpec,
  ParamType,
  Param,
  TaskCallback,
  DagCallback,
  SlaMiss,
} from "./options.js";
export type { DeadlineAlert, DeadlineMiss, DeadlineReference } from "./deadline.js";
export type {
  TaskContext,
  TriggeringAssetEvent,
  OutletEventAccessor,
  TaskInstanceInfo,
  DagRunInfo,
  Connection,
  Macros,
  VariableAccessor,
  ConnectionAccessor,
} from "./context.js";
export { TaskSkipped, TaskFailedNoRetry, TaskDeferred, TaskRescheduled, deferTask } from "./signals.js";
export type { DeferOptions } from "./signals.js";
export { triggers, defineTrigger, userTrigger, BUILTIN_TRIGGERS } from "./triggers.js";
export type {
  TriggerSpec,
  TriggerEventPayload,
  TriggerRunContext,
  UserTriggerDefinition,
  ExternalTaskTriggerKwargs,
} from "./triggers.js";
export { EmptyOperator } from "./operators/empty.js";
export { BashOperator } from "./operators/bash.js";
export type { BashOperatorOptions } from "./operators/bash.js";
export { SlackWebhookOperator } from "./operators/slack-webhook.js";
export type { SlackWebhookOperatorOptions } from "./operators/slack-webhook.js";
export { KubernetesPodOperator, SparkKubernetesOperator } from "./operators/kubernetes.js";
export type {
  KubernetesPodOperatorOptions,
  SparkKubernetesOperatorOptions,
  ResourceRequirements,
  Toleration,
  EnvFromSource,
} from "./operators/kubernetes.js";
export { slackWebhookNotifier, webhookNotifier } from "./notifiers.js";
export type { SlackWebhookNotifierOptions, WebhookNotifierOptions, MessageOf } from "./notifiers.js";
export { MAPPED_VALUE } from "./mapping.js";
export type { MapSource, MappedBuilder } from "./mapping.js";
export { takeRegisteredDags } from "./registry.js";
export { SKIP_EXIT_CODE } from "./operators/run-bash.js";
export type {
  HookAccessor,
  PostgresHook,
  HttpHook,
  HttpRequestOptions,
  HttpRetryOptions,
  HttpResponse,
  SqlRunOptions,
  Row,
} from "./hooks.js";
export { SQLExecuteQueryOperator, PostgresOperator } from "./operators/sql.js";
export type { SQLExecuteQueryOperatorOptions, PostgresOperatorOptions } from "./operators/sql.js";
export { SQLCheckOperator, SQLValueCheckOperator } from "./operators/sql-check.js";
export type { SQLCheckOperatorOptions, SQLValueCheckOperatorOptions } from "./operators/sql-check.js";
export { HttpOperator } from "./operators/http.js";
export type { HttpOperatorOptions } from "./operators/http.js";
export {
  BaseSensorOperator,
  DateTimeSensor,
  TimeDeltaSensor,
  FileSensor,
  HttpSensor,
  SqlSensor,
} from "./sensors/index.js";
export type {
  BaseSensorOptions,
  PokeReturnValue,
  DateTimeSensorOptions,
  TimeDeltaSensorOptions,
  FileSensorOptions,
  HttpSensorOptions,
  SqlSensorOptions,
} from "./sensors/index.js";
export { LatestOnlyOperator } from "./operators/latest-only.js";
export { BranchDayOfWeekOperator } from "./operators/branch-day-of-week.js";
export type { BranchDayOfWeekOperatorOptions } from "./operators/branch-day-of-week.js";
export { ExternalProcessOperator } from "./operators/external-process.js";
export type { ExternalProcessOperatorOptions } from "./operators/external-process.js";
export { EmailOperator } from "./operators/email.js";
export type { EmailOperatorOptions } from "./operators/email.js";
export {
  TriggerDagRunOperator,
  XCOM_TRIGGER_RUN_ID,
  XCOM_TRIGGER_LOGICAL_DATE_ISO,
} from "./operators/trigger-dagrun.js";
export type { TriggerDagRunOperatorOptions } from "./operators/trigger-dagrun.js";
export { ExternalTaskSensor } from "./sensors/external-task.js";
export { ExternalTaskMarker } from "./operators/external-task-marker.js";
export type { ExternalTaskMarkerOptions } from "./operators/external-task-marker.js";
export type { ExternalTaskSensorOptions, ExternalTaskQuery } from "./sensors/external-task.js";
export type {
  DagRunAccessor,
  DagRunStatus,
  StateCountQuery,
  StateCounts,
  TriggerRunRequest,
} from "./dag-runs.js";
// Object storage (issue 13, decision 0032).
export {
  S3CreateObjectOperator,
  S3CopyObjectOperator,
  S3DeleteObjectsOperator,
  S3ListOperator,
} from "./operators/s3.js";
export type {
  S3CreateObjectOperatorOptions,
  S3CopyObjectOperatorOptions,
  S3DeleteObjectsOperatorOptions,
  S3ListOperatorOptions,
} from "./operators/s3.js";
export { S3KeySensor } from "./sensors/s3-key.js";
export type { S3KeySensorOptions } from "./sensors/s3-key.js";
export { S3ToGCSOperator } from "./operators/s3-to-gcs.js";
export type { S3ToGCSOperatorOptions } from "./operators/s3-to-gcs.js";
export type {
  S3Hook,
  S3ObjectInfo,
  S3ListOptions,
  S3UploadOptions,
  GcsHook,
  GcsUploadOptions,
} from "./storage-hooks.js";
