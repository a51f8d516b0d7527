/** The Kubernetes operators; their client code loads only when a task runs (src/kube/operators.ts). */
export { KubernetesPodOperator } from "./pod-operator.js";
export { SparkKubernetesOperator } from "./spark-operator.js";
export type {
  EnvFromSource,
  KubernetesPodOperatorOptions,
  KubernetesTargetOptions,
  OnFinishAction,
  ResourceRequirements,
  SparkKubernetesOperatorOptions,
  Toleration,
} from "./types.js";
