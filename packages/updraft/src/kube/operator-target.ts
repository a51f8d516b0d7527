import type { KubeConfig } from "@kubernetes/client-node";
import { UpdraftError, describeError } from "../common/errors.js";
import { loadKubeConfig, type KubeTarget } from "./client.js";

/** A {@link KubeTarget} that may also carry a whole kubeconfig (a connection's `kube_config` extra). */
export interface OperatorTarget extends KubeTarget {
  /** The kubeconfig's text (YAML or JSON), as Airflow's `kubernetes` connection holds it. */
  kubeConfigText?: string;
  /** Where the target came from, for error messages: "connection kubernetes_default", "KUBECONFIG". */
  source?: string;
}

/** Loads the client configuration of an operator's target (the client is imported lazily). */
export async function loadOperatorKubeConfig(target: OperatorTarget): Promise<KubeConfig> {
  if (target.kubeConfigText === undefined) return loadKubeConfig(target);
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(target.kubeConfigText);
    if (target.clusterContext !== undefined) kc.setCurrentContext(target.clusterContext);
  } catch (err) {
    throw new UpdraftError(
      "KUBERNETES_CONFIG",
      `The kubeconfig in ${target.source ?? "the connection"} could not be loaded: ${describeError(err)}. Put a whole kubeconfig (YAML or JSON) in the connection's kube_config extra, or use kube_config_path.`,
      { cause: err },
    );
  }
  if (kc.getCurrentCluster() === null) {
    throw new UpdraftError(
      "KUBERNETES_CONFIG",
      `The kubeconfig in ${target.source ?? "the connection"} names no cluster for its current context${target.clusterContext === undefined ? "" : ` "${target.clusterContext}"`}.`,
    );
  }
  return kc;
}
