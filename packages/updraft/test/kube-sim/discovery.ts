/** Discovery documents: what kubectl reads before it can find `pods` or `sparkapplications`. */

export const SPARK_GROUP = "sparkoperator.k8s.io";
export const SPARK_VERSION = "v1beta2";

export function versionInfo(): Record<string, string> {
  return {
    major: "1",
    minor: "34",
    gitVersion: "v1.34.0+kube-sim",
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2026-01-01T00:00:00Z",
    goVersion: "go1.24.0",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export function apiVersions(host: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: host }],
  };
}

const sparkVersion = { groupVersion: `${SPARK_GROUP}/${SPARK_VERSION}`, version: SPARK_VERSION };

export function apiGroupList(): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: [sparkGroup()] };
}

export function sparkGroup(): Record<string, unknown> {
  return {
    kind: "APIGroup",
    apiVersion: "v1",
    name: SPARK_GROUP,
    versions: [sparkVersion],
    preferredVersion: sparkVersion,
  };
}

const RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function resource(
  name: string,
  kind: string,
  namespaced: boolean,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { name, singularName: kind.toLowerCase(), namespaced, kind, verbs: RW, ...extra };
}

export function coreV1Resources(): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    groupVersion: "v1",
    resources: [
      resource("pods", "Pod", true, { shortNames: ["po"], categories: ["all"] }),
      { name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] },
      {
        name: "pods/status",
        singularName: "",
        namespaced: true,
        kind: "Pod",
        verbs: ["get", "patch", "update"],
      },
      resource("secrets", "Secret", true),
      resource("configmaps", "ConfigMap", true, { shortNames: ["cm"] }),
      resource("events", "Event", true, { shortNames: ["ev"] }),
      resource("namespaces", "Namespace", false, {
        shortNames: ["ns"],
        verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      }),
    ],
  };
}

export function sparkResources(): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: `${SPARK_GROUP}/${SPARK_VERSION}`,
    resources: [
      resource("sparkapplications", "SparkApplication", true, {
        shortNames: ["sparkapp"],
        categories: ["all"],
      }),
      {
        name: "sparkapplications/status",
        singularName: "",
        namespaced: true,
        kind: "SparkApplication",
        verbs: ["get", "patch", "update"],
      },
    ],
  };
}
