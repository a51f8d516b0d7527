/**
 * Updraft's authoring SDK: what DAG files import as `"updraft"`.
 *
 * @example
 * ```ts
 * import { dag, task, BashOperator } from "updraft";
 * ```
 */
export {
  dag,
  Dag,
  task,
  TaskFlowOperator,
  BaseOperator,
  isOperator,
  XComArg,
  isXComArg,
  chain,
  taskGroup,
  TaskGroup,
  TriggerRule,
  TRIGGER_RULES,
  WeightRule,
  param,
  TaskSkipped,
  TaskFailedNoRetry,
  EmptyOperator,
  BashOperator,
  KubernetesPodOperator,
  SparkKubernetesOperator,
  slackWebhookNotifier,
  webhookNotifier,
} from "./sdk/index.js";
export type {
  TaskFn,
  TaskFlowOptions,
  TaskArgs,
  TaskLists,
  ExecuteInput,
  GraphNode,
  Wireable,
  XComInput,
  TaskGroupOptions,
  TaskOptions,
  DagOptions,
  ParamSpec,
  ParamType,
  Param,
  TaskCallback,
  DagCallback,
  SlaMiss,
  TaskContext,
  TaskInstanceInfo,
  DagRunInfo,
  Connection,
  Macros,
  VariableAccessor,
  ConnectionAccessor,
  BashOperatorOptions,
  KubernetesPodOperatorOptions,
  SparkKubernetesOperatorOptions,
  ResourceRequirements,
  Toleration,
  EnvFromSource,
  MapSource,
  MappedBuilder,
  SlackWebhookNotifierOptions,
  WebhookNotifierOptions,
  MessageOf,
} from "./sdk/index.js";
export { UpdraftError } from "./common/errors.js";
export type { Duration } from "./common/duration.js";
