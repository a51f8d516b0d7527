/** Which resource a REST path names: `/api/v1/namespaces/ns/pods/x/log` → pods, ns, x, log. */
import { SPARK_GROUP, SPARK_VERSION } from "./discovery.js";
import type { Resource } from "./types.js";

export interface Route {
  resource: Resource;
  group: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const CORE: ReadonlySet<string> = new Set(["pods", "secrets", "configmaps", "events"]);

export function parseRoute(pathname: string): Route | undefined {
  const parts = pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let rest: string[];
  let group: string;
  if (parts[0] === "api" && parts[1] === "v1") {
    rest = parts.slice(2);
    group = "";
  } else if (parts[0] === "apis" && parts[1] === SPARK_GROUP && parts[2] === SPARK_VERSION) {
    rest = parts.slice(3);
    group = SPARK_GROUP;
  } else {
    return undefined;
  }
  const allowed = (r: string | undefined): r is Resource =>
    r !== undefined && (group === "" ? CORE.has(r) : r === "sparkapplications");
  if (rest[0] === "namespaces") {
    if (rest.length <= 2 || (rest.length === 3 && group === "" && rest[2] === "status")) {
      if (group !== "") return undefined;
      return {
        resource: "namespaces",
        group,
        ...(rest[1] === undefined ? {} : { name: rest[1] }),
        ...(rest[2] === undefined ? {} : { subresource: rest[2] }),
      };
    }
    const [, namespace, resource, name, subresource, extra] = rest;
    if (!allowed(resource) || extra !== undefined) return undefined;
    return {
      resource,
      group,
      namespace: namespace!,
      ...(name === undefined ? {} : { name }),
      ...(subresource === undefined ? {} : { subresource }),
    };
  }
  // All namespaces: /api/v1/pods (list and watch only).
  if (rest.length === 1 && allowed(rest[0])) return { resource: rest[0], group };
  return undefined;
}

export function kindOf(resource: Resource): { apiVersion: string; kind: string } {
  const kinds: Record<Resource, string> = {
    pods: "Pod",
    secrets: "Secret",
    configmaps: "ConfigMap",
    events: "Event",
    namespaces: "Namespace",
    sparkapplications: "SparkApplication",
  };
  return {
    apiVersion: resource === "sparkapplications" ? `${SPARK_GROUP}/${SPARK_VERSION}` : "v1",
    kind: kinds[resource],
  };
}
