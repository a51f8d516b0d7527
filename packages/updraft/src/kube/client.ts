import type { KubeConfig } from "@kubernetes/client-node";
import { UpdraftError, describeError } from "../common/errors.js";

/** Where a Kubernetes client finds its cluster; names follow Airflow's Kubernetes hook. */
export interface KubeTarget {
  /** Use the Pod's service account (in-cluster config). */
  inCluster?: boolean;
  /** A kubeconfig file; default: $KUBECONFIG or ~/.kube/config. */
  configFile?: string;
  /** A context of the kubeconfig; default: its current context. */
  clusterContext?: string;
}

/**
 * Loads the official client lazily (it is large: DAG files that only declare Kubernetes tasks
 * must not pay for it) and builds a KubeConfig for the target.
 */
export async function loadKubeConfig(target: KubeTarget = {}): Promise<KubeConfig> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    if (target.inCluster === true) kc.loadFromCluster();
    else if (target.configFile !== undefined) kc.loadFromFile(target.configFile);
    else kc.loadFromDefault();
    if (target.clusterContext !== undefined) kc.setCurrentContext(target.clusterContext);
  } catch (err) {
    throw new UpdraftError(
      "KUBERNETES_CONFIG",
      `Could not load the Kubernetes configuration (${describeTarget(target)}): ${describeError(err)}. Set KUBECONFIG or kubernetes_executor.config_file to a kubeconfig, or run inside a cluster with in_cluster = true.`,
      { cause: err },
    );
  }
  if (kc.getCurrentCluster() === null) {
    throw new UpdraftError(
      "KUBERNETES_CONFIG",
      `The Kubernetes configuration (${describeTarget(target)}) names no cluster. Set KUBECONFIG to a kubeconfig with a current context.`,
    );
  }
  return kc;
}

function describeTarget(t: KubeTarget): string {
  if (t.inCluster === true) return "in-cluster";
  if (t.configFile !== undefined) return t.configFile;
  return process.env.KUBECONFIG !== undefined ? `KUBECONFIG=${process.env.KUBECONFIG}` : "~/.kube/config";
}
