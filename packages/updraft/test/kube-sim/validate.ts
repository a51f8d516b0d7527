/**
 * What the API server rejects with 422 Invalid: names, labels, and every object against the
 * Kubernetes schema (kubernetes-models' validator), so the simulator cannot hide an invalid spec.
 */
import { ConfigMap, Namespace, Pod, Secret } from "kubernetes-models/v1";
import { invalid, type StatusCause } from "./status.js";
import type { KubeObject, Resource } from "./types.js";

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function subdomainProblem(name: string): string | undefined {
  if (name.length > 253) return "must be no more than 253 characters";
  if (!SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return undefined;
}

export function labelNameProblem(name: string): string | undefined {
  if (name.length > 63) return "must be no more than 63 characters";
  if (!LABEL.test(name)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  }
  return undefined;
}

/** metadata checks shared by every kind: name, labels, annotation keys. */
export function metadataCauses(object: KubeObject, nameRule: "subdomain" | "label"): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = object.metadata.name;
  const problem = nameRule === "subdomain" ? subdomainProblem(name) : labelNameProblem(name);
  if (problem !== undefined)
    causes.push({ field: "metadata.name", message: `Invalid value: ${JSON.stringify(name)}: ${problem}` });
  for (const [k, v] of Object.entries(object.metadata.labels ?? {})) {
    const keyProblem = qualifiedKeyProblem(k);
    if (keyProblem !== undefined)
      causes.push({
        field: "metadata.labels",
        message: `Invalid value: ${JSON.stringify(k)}: ${keyProblem}`,
      });
    if (typeof v !== "string") {
      causes.push({
        field: "metadata.labels",
        message: `Invalid value: ${JSON.stringify(v)}: a label value must be a string`,
      });
    } else if (v.length > 63) {
      causes.push({
        field: "metadata.labels",
        message: `Invalid value: ${JSON.stringify(v)}: must be no more than 63 characters`,
      });
    } else if (!LABEL_VALUE.test(v)) {
      causes.push({
        field: "metadata.labels",
        message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
      });
    }
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(object.metadata.annotations ?? {})) {
    const keyProblem = qualifiedKeyProblem(k);
    if (keyProblem !== undefined)
      causes.push({
        field: "metadata.annotations",
        message: `Invalid value: ${JSON.stringify(k)}: ${keyProblem}`,
      });
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > 256 * 1024)
    causes.push({ field: "metadata.annotations", message: "Too long: must have at most 262144 bytes" });
  return causes;
}

function qualifiedKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && subdomainProblem(prefix) !== undefined)
    return "prefix part must be a lowercase RFC 1123 subdomain";
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be no more than 63 characters";
  }
  return undefined;
}

/** The schema check: kubernetes-models' validator, its message as the cause. */
function schemaCauses(resource: Resource, object: KubeObject): StatusCause[] {
  const models: Partial<Record<Resource, new (data: never) => { validate(): void }>> = {
    pods: Pod as never,
    secrets: Secret as never,
    configmaps: ConfigMap as never,
    namespaces: Namespace as never,
  };
  const Model = models[resource];
  if (Model === undefined) return [];
  try {
    new Model(object as never).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: { instancePath?: string; message?: string }[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.map((e) => ({
        field: (e.instancePath ?? "")
          .replace(/^\//, "")
          .replace(/\/(\d+)(?=\/|$)/g, "[$1]")
          .replace(/\//g, "."),
        message: `Invalid value: ${e.message ?? "invalid"} (schema: ${(err as Error).message})`,
      }));
    }
    return [{ message: (err as Error).message }];
  }
}

/** The Pod rules beyond the schema that the API server enforces on create. */
function podCauses(pod: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = (pod.spec ?? {}) as {
    containers?: { name?: string; image?: string }[];
    initContainers?: { name?: string; image?: string }[];
    restartPolicy?: string;
    volumes?: { name?: string }[];
  };
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    causes.push({ field: "spec.containers", message: "Required value", reason: "FieldValueRequired" });
  }
  const seen = new Set<string>();
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
  for (const [list, field] of [
    [spec.initContainers ?? [], "spec.initContainers"],
    [spec.containers ?? [], "spec.containers"],
  ] as const) {
    list.forEach((c, i) => {
      const name = c.name ?? "";
      const problem = labelNameProblem(name);
      if (problem !== undefined)
        causes.push({
          field: `${field}[${i}].name`,
          message: `Invalid value: ${JSON.stringify(name)}: ${problem}`,
        });
      if (seen.has(name))
        causes.push({
          field: `${field}[${i}].name`,
          message: `Duplicate value: ${JSON.stringify(name)}`,
          reason: "FieldValueDuplicate",
        });
      seen.add(name);
      if (c.image === undefined || c.image.trim() === "") {
        causes.push({
          field: `${field}[${i}].image`,
          message: "Required value",
          reason: "FieldValueRequired",
        });
      }
      for (const [j, m] of ((c as { volumeMounts?: { name: string }[] }).volumeMounts ?? []).entries()) {
        if (!volumes.has(m.name))
          causes.push({
            field: `${field}[${i}].volumeMounts[${j}].name`,
            message: `Not found: ${JSON.stringify(m.name)}`,
            reason: "FieldValueNotFound",
          });
      }
    });
  }
  if (spec.restartPolicy !== undefined && !["Always", "OnFailure", "Never"].includes(spec.restartPolicy)) {
    causes.push({
      field: "spec.restartPolicy",
      message: `Unsupported value: ${JSON.stringify(spec.restartPolicy)}: supported values: "Always", "OnFailure", "Never"`,
      reason: "FieldValueNotSupported",
    });
  }
  return causes;
}

function secretCauses(secret: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  let size = 0;
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, unknown>)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k))
      causes.push({
        field: `data[${k}]`,
        message: `Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
      causes.push({ field: `data[${k}]`, message: "Invalid value: illegal base64 data" });
    else size += Buffer.from(v, "base64").length;
  }
  if (size > 1024 * 1024)
    causes.push({ field: "data", message: "Too long: must have at most 1048576 bytes" });
  return causes;
}

/** Throws 422 Invalid when the API server would. */
export function validateObject(resource: Resource, object: KubeObject): void {
  const causes = [
    ...metadataCauses(object, resource === "namespaces" ? "label" : "subdomain"),
    ...schemaCauses(resource, object),
    ...(resource === "pods" ? podCauses(object) : []),
    ...(resource === "secrets" ? secretCauses(object) : []),
  ];
  if (causes.length > 0) throw invalid(object.kind, object.metadata.name, causes);
}

/** A Pod's spec is immutable but for images, activeDeadlineSeconds and added tolerations. */
export function checkPodUpdate(current: KubeObject, next: KubeObject): void {
  const strip = (spec: unknown) => {
    const s = structuredClone(spec ?? {}) as Record<string, unknown>;
    for (const list of ["containers", "initContainers"]) {
      for (const c of (s[list] as Record<string, unknown>[] | undefined) ?? []) delete c.image;
    }
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    return JSON.stringify(s);
  };
  if (strip(current.spec) !== strip(next.spec)) {
    throw invalid("Pod", current.metadata.name, [
      {
        field: "spec",
        reason: "FieldValueForbidden",
        message:
          "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
      },
    ]);
  }
}
