import { UpdraftError } from "../../common/errors.js";
import { BaseOperator } from "../base-operator.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";
import type { TaskOptions } from "../options.js";

/** Kubernetes resource requests and limits, e.g. `{ requests: { cpu: "2", memory: "4Gi" } }`. */
export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** A toleration as in the Kubernetes Pod spec. */
export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  tolerationSeconds?: number;
}

/** An `envFrom` source as in the Kubernetes container spec. */
export interface EnvFromSource {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}

/** Options of {@link KubernetesPodOperator}; names follow Airflow's, in camelCase. */
export interface KubernetesPodOperatorOptions extends TaskOptions {
  taskId: string;
  /** Pod name prefix (a random suffix is added). */
  name?: string;
  namespace?: string;
  image: string;
  /** The container's entrypoint (`command` in the Pod spec). */
  cmds?: string[];
  /** The container's arguments (templated). */
  arguments?: string[];
  resources?: ResourceRequirements;
  envVars?: Record<string, string>;
  envFrom?: EnvFromSource[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Record<string, unknown>;
  serviceAccountName?: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  imagePullSecrets?: string[];
  volumes?: Record<string, unknown>[];
  volumeMounts?: Record<string, unknown>[];
  /** Delete the Pod when the task finishes (Airflow's `is_delete_operator_pod`). */
  isDeleteOperatorPod?: boolean;
  /** Stream the container's log into the task log. */
  getLogs?: boolean;
  /** Fail if the Pod has not started after this many seconds. */
  startupTimeoutSeconds?: number;
  /** Read `/airflow/xcom/return.json` from the Pod as the XCom value. */
  doXcomPush?: boolean;
  kubernetesConnId?: string;
  inCluster?: boolean;
  clusterContext?: string;
  configFile?: string;
}

const KPO_FIELDS = [
  "name",
  "namespace",
  "image",
  "cmds",
  "arguments",
  "resources",
  "envVars",
  "envFrom",
  "labels",
  "annotations",
  "nodeSelector",
  "tolerations",
  "affinity",
  "serviceAccountName",
  "imagePullPolicy",
  "imagePullSecrets",
  "volumes",
  "volumeMounts",
  "isDeleteOperatorPod",
  "getLogs",
  "startupTimeoutSeconds",
  "kubernetesConnId",
  "inCluster",
  "clusterContext",
  "configFile",
] as const;

function pick(options: object, names: readonly string[]): Record<string, unknown> {
  const src = options as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const n of names) if (src[n] !== undefined) out[n] = src[n];
  return out;
}

function notYet(operator: string): never {
  throw new UpdraftError(
    "OPERATOR_NOT_SUPPORTED",
    `${operator} needs the Kubernetes integration, which this Updraft version cannot run yet. The task is declared and scheduled, but cannot execute here.`,
  );
}

/**
 * Runs a container in its own Kubernetes Pod, whatever executor runs the other tasks.
 *
 * @example
 * ```ts
 * new KubernetesPodOperator({
 *   taskId: "train_model", name: "model-training", namespace: "airflow", image: "my-registry.io/ml-trainer:v3.1.0",
 *   cmds: ["python", "/app/train.py"], arguments: ["--date", "{{ ds }}"],
 *   resources: { requests: { cpu: "4", memory: "16Gi" } }, isDeleteOperatorPod: true, getLogs: true,
 * });
 * ```
 */
export class KubernetesPodOperator extends BaseOperator {
  readonly operatorName = "KubernetesPodOperator";
  readonly templateFields = [
    "image",
    "cmds",
    "arguments",
    "envVars",
    "labels",
    "annotations",
    "namespace",
    "resources",
    "volumes",
    "volumeMounts",
    "envFrom",
    "nodeSelector",
    "configFile",
  ] as const;
  static readonly mappableFields = ["image", "cmds", "arguments", "envVars", "labels", "resources"] as const;

  constructor(options: KubernetesPodOperatorOptions) {
    super(options, pick(options, KPO_FIELDS), KPO_FIELDS);
  }

  /** Starts a mapped KubernetesPodOperator. */
  static partial(
    options: Partial<KubernetesPodOperatorOptions> & { taskId: string },
  ): MappedBuilder<
    KubernetesPodOperatorOptions,
    "image" | "cmds" | "arguments" | "envVars" | "labels" | "resources"
  > {
    return mappedOperator(KubernetesPodOperator, options, KubernetesPodOperator.mappableFields);
  }

  async execute(): Promise<never> {
    notYet(this.operatorName);
  }
}

/** Options of {@link SparkKubernetesOperator}; names follow Airflow's, in camelCase. */
export interface SparkKubernetesOperatorOptions extends TaskOptions {
  taskId: string;
  /** A SparkApplication manifest (YAML or JSON path, or its text); templated. */
  applicationFile: string;
  namespace?: string;
  kubernetesConnId?: string;
  image?: string;
  codePath?: string;
  name?: string;
  /** Delete the SparkApplication when the task finishes. */
  deleteOnTermination?: boolean;
  getLogs?: boolean;
  startupTimeoutSeconds?: number;
  reattachOnRestart?: boolean;
  inCluster?: boolean;
  clusterContext?: string;
  configFile?: string;
}

const SPARK_FIELDS = [
  "applicationFile",
  "namespace",
  "kubernetesConnId",
  "image",
  "codePath",
  "name",
  "deleteOnTermination",
  "getLogs",
  "startupTimeoutSeconds",
  "reattachOnRestart",
  "inCluster",
  "clusterContext",
  "configFile",
] as const;

/**
 * Submits a SparkApplication (the Spark operator's custom resource) and waits for it.
 *
 * @example
 * ```ts
 * new SparkKubernetesOperator({ taskId: "etl", namespace: "spark", applicationFile: "etl-{{ ds_nodash }}.yaml" });
 * ```
 */
export class SparkKubernetesOperator extends BaseOperator {
  readonly operatorName = "SparkKubernetesOperator";
  readonly templateFields = ["applicationFile", "namespace", "image", "codePath", "name"] as const;

  constructor(options: SparkKubernetesOperatorOptions) {
    super(options, pick(options, SPARK_FIELDS), SPARK_FIELDS);
  }

  async execute(): Promise<never> {
    notYet(this.operatorName);
  }
}
