// Which cluster an operator talks to: its own arguments first, then the Airflow `kubernetes`
// connection's extras, then the environment (KUBECONFIG, ~/.kube/config, in-cluster), as
// Airflow's KubernetesHook decides.
import { readFileSync } from "node:fs";
import { UpdraftError } from "../../../common/errors.js";
import type { Connection, TaskContext } from "../../context.js";
import type { OperatorTarget } from "../../../kube/operator-target.js";

const IN_CLUSTER_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export interface ResolvedTarget {
  target: OperatorTarget;
  /** The connection's `namespace` extra, else the runner's own namespace in a cluster. */
  defaultNamespace: string | undefined;
  /** The connection's `xcom_sidecar_container_image` extra. */
  xcomSidecarImage: string | undefined;
}

/** An extra by its name, or by Airflow's older `extra__kubernetes__` prefix; empty means absent. */
function extra(conn: Connection | undefined, name: string): unknown {
  if (conn === undefined) return undefined;
  const v = conn.extra[name] ?? conn.extra[`extra__kubernetes__${name}`];
  return v === "" || v === null ? undefined : v;
}

function truthy(v: unknown): boolean {
  return v === true || v === "true" || v === "True" || v === "1";
}

function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Resolves the target from rendered fields and the connection they name (read through the execution API). */
export async function resolveTarget(
  fields: Record<string, unknown>,
  ctx: TaskContext,
): Promise<ResolvedTarget> {
  const connId = fields.kubernetesConnId as string | undefined;
  const conn = connId === undefined ? undefined : await ctx.conn.get(connId);
  if (conn !== undefined && conn.conn_type !== "kubernetes" && conn.conn_type !== "") {
    throw new UpdraftError(
      "KUBERNETES_CONFIG",
      `Connection "${connId}" has type "${conn.conn_type}"; the Kubernetes operators need a connection of type "kubernetes" (extras in_cluster, kube_config_path, kube_config, namespace, cluster_context).`,
    );
  }
  const inCluster =
    (fields.inCluster as boolean | undefined) ?? (truthy(extra(conn, "in_cluster")) ? true : undefined);
  const configFile =
    (fields.configFile as string | undefined) ?? (extra(conn, "kube_config_path") as string | undefined);
  const rawConfig = extra(conn, "kube_config");
  const kubeConfigText =
    rawConfig === undefined
      ? undefined
      : typeof rawConfig === "string"
        ? rawConfig
        : JSON.stringify(rawConfig);
  const chosen = [inCluster === true, configFile !== undefined, kubeConfigText !== undefined].filter(
    Boolean,
  ).length;
  if (chosen > 1) {
    throw new UpdraftError(
      "KUBERNETES_CONFIG",
      `${connId === undefined ? "The operator" : `Connection "${connId}" with the operator's arguments`} names more than one of in_cluster, kube_config_path (configFile) and kube_config: choose one.`,
    );
  }
  const clusterContext =
    (fields.clusterContext as string | undefined) ?? (extra(conn, "cluster_context") as string | undefined);
  const target: OperatorTarget = {
    ...(inCluster === true ? { inCluster } : {}),
    ...(configFile === undefined ? {} : { configFile }),
    ...(kubeConfigText === undefined ? {} : { kubeConfigText }),
    ...(clusterContext === undefined ? {} : { clusterContext }),
    ...(connId === undefined ? {} : { source: `connection "${connId}"` }),
  };
  return {
    target,
    defaultNamespace: (extra(conn, "namespace") as string | undefined) ?? inClusterNamespace(),
    xcomSidecarImage: extra(conn, "xcom_sidecar_container_image") as string | undefined,
  };
}
