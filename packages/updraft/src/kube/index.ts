/**
 * Kubernetes helpers shared by the KubernetesExecutor and the Kubernetes operators: loading the
 * official client, label-safe values, deterministic names. Imports only common/ (and the client).
 */
export { loadKubeConfig, type KubeTarget } from "./client.js";
export { dnsName, labelSafe } from "./labels.js";
