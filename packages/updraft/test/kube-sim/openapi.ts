/**
 * Just enough OpenAPI v3 for kubectl: before `create -f`/`apply -f` it looks up, per
 * group-version, the PATCH operation of the kind to learn whether the server takes the
 * `fieldValidation` parameter (then it validates server-side). No schemas are served.
 */
import { SPARK_GROUP, SPARK_VERSION } from "./discovery.js";

interface Kind {
  plural: string;
  kind: string;
  namespaced: boolean;
}

const GROUPS: Record<string, { group: string; version: string; prefix: string; kinds: Kind[] }> = {
  "api/v1": {
    group: "",
    version: "v1",
    prefix: "/api/v1",
    kinds: [
      { plural: "pods", kind: "Pod", namespaced: true },
      { plural: "secrets", kind: "Secret", namespaced: true },
      { plural: "configmaps", kind: "ConfigMap", namespaced: true },
      { plural: "events", kind: "Event", namespaced: true },
      { plural: "namespaces", kind: "Namespace", namespaced: false },
    ],
  },
  [`apis/${SPARK_GROUP}/${SPARK_VERSION}`]: {
    group: SPARK_GROUP,
    version: SPARK_VERSION,
    prefix: `/apis/${SPARK_GROUP}/${SPARK_VERSION}`,
    kinds: [{ plural: "sparkapplications", kind: "SparkApplication", namespaced: true }],
  },
};

export function openApiRoot(): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of Object.keys(GROUPS)) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=kube-sim` };
  return { paths };
}

/** The document of one group-version, or undefined for an unknown one. */
export function openApiGroupVersion(gv: string): Record<string, unknown> | undefined {
  const spec = GROUPS[gv];
  if (spec === undefined) return undefined;
  const paths: Record<string, unknown> = {};
  const query = (name: string) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
  for (const k of spec.kinds) {
    const gvk = { group: spec.group, version: spec.version, kind: k.kind };
    const operation = (verb: string) => ({
      operationId: `${verb}${k.kind}`,
      "x-kubernetes-action": verb,
      "x-kubernetes-group-version-kind": gvk,
      parameters: [query("dryRun"), query("fieldManager"), query("fieldValidation")],
      responses: { "200": { description: "OK" } },
    });
    const collection = `${spec.prefix}${k.namespaced ? "/namespaces/{namespace}" : ""}/${k.plural}`;
    paths[collection] = { post: operation("post") };
    paths[`${collection}/{name}`] = { put: operation("put"), patch: operation("patch") };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.34.0" },
    paths,
    components: { schemas: {} },
  };
}
