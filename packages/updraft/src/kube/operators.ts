/**
 * What the Kubernetes operators load when a task runs (never when a DAG file is parsed: the SDK
 * imports this module with `await import()` inside `execute`).
 */
export { loadOperatorKubeConfig, type OperatorTarget } from "./operator-target.js";
export { PodRun, type PodRunOptions, type PodRunResult } from "./pod-launcher.js";
export { SparkRun, type SparkRunOptions, type SparkRunResult } from "./spark-launcher.js";
export { describeEnd } from "./pod-state.js";
export {
  selectorOf,
  taskInstanceLabels,
  tryAnnotations,
  tryLabels,
  tryObjectName,
  type TryIdentity,
} from "./pod-names.js";
export { kubeApiError } from "./api-errors.js";
export { parseYaml } from "./yaml.js";
