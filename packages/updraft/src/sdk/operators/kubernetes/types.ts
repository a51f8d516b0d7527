import type { TaskOptions } from "../../options.js";

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

/** Where the operators find their cluster; names follow Airflow's, in camelCase. */
export interface KubernetesTargetOptions {
  /**
   * An Airflow `kubernetes` connection (extras `in_cluster`, `kube_config_path`, `kube_config`,
   * `namespace`, `cluster_context`, `xcom_sidecar_container_image`). Without it: the arguments
   * below, else `$KUBECONFIG`, `~/.kube/config` or the in-cluster service account.
   */
  kubernetesConnId?: string;
  /** Use the Pod's service account (in-cluster config). */
  inCluster?: boolean;
  /** A context of the kubeconfig; default its current context. */
  clusterContext?: string;
  /** A kubeconfig file (templated). */
  configFile?: string;
}

/** What happens to the Pod at the end (Airflow's `on_finish_action`). */
export type OnFinishAction = "delete_pod" | "delete_succeeded_pod" | "keep_pod";

/** Options of {@link KubernetesPodOperator}; names follow Airflow's, in camelCase. */
export interface KubernetesPodOperatorOptions extends TaskOptions, KubernetesTargetOptions {
  taskId: string;
  /** Pod name prefix (templated); the task instance and try are added. Default: the task id. */
  name?: string;
  /** Default: the connection's namespace, else the runner's own (in a cluster), else "default". */
  namespace?: string;
  image: string;
  /** The container's entrypoint (`command` in the Pod spec); default the image's. */
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
  /** Delete the Pod when the task finishes (Airflow's `is_delete_operator_pod`); default true. */
  isDeleteOperatorPod?: boolean;
  /** Finer than isDeleteOperatorPod: `delete_succeeded_pod` keeps failed Pods for a look. */
  onFinishAction?: OnFinishAction;
  /** Stream the container's log into the task log while it runs; default true. */
  getLogs?: boolean;
  /** Fail if the Pod has not started after this many seconds; default 120. */
  startupTimeoutSeconds?: number;
  /** Push the JSON the container wrote to `/airflow/xcom/return.json` as the XCom value; default false. */
  doXcomPush?: boolean;
  /** Exit codes of the container that skip the task instead of failing it. */
  skipOnExitCode?: number | number[];
}

/** Options of {@link SparkKubernetesOperator}; names follow Airflow's, in camelCase. */
export interface SparkKubernetesOperatorOptions extends TaskOptions, KubernetesTargetOptions {
  taskId: string;
  /**
   * A SparkApplication manifest (templated): a `.yaml`/`.yml`/`.json` file relative to the DAG
   * file's folder (or absolute), or the manifest's YAML or JSON text.
   */
  applicationFile?: string;
  /** The manifest as an object (templated), instead of applicationFile. */
  templateSpec?: Record<string, unknown>;
  /** Default "default", as in Airflow. */
  namespace?: string;
  /** Replaces `spec.image`. */
  image?: string;
  /** Replaces `spec.mainApplicationFile`. */
  codePath?: string;
  /** The application's name prefix; default the manifest's metadata.name, else the task id. */
  name?: string;
  /** Delete the SparkApplication when the task ends, is killed or times out; default true. */
  deleteOnTermination?: boolean;
  /** Stream the driver's log into the task log; default true. */
  getLogs?: boolean;
  /** Fail if the application has not started running after this many seconds; default 600. */
  startupTimeoutSeconds?: number;
}
