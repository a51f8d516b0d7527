// Validates rendered manifests against the Kubernetes schema: kubernetes-models' validator for
// types, required fields and enums, and strict-fields.ts for fields the API does not define.
// KEDA's ScaledObject and TriggerAuthentication are validated by @kubernetes-models/keda (types,
// required fields) but their CRD types are inline, which strict-fields.ts cannot walk: the tests
// compare their whole spec, which catches a field that should not be there. Other custom
// resources (PrometheusRule) have no model here; their shape is checked by the tests.
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import type { Manifest } from "./render.js";
import { unknownFields } from "./strict-fields.js";

type Validatable = { validate(): void };
/** `file`: the type's .d.ts in kubernetes-models for strict-fields.ts, null when it cannot be walked. */
const MODELS: Record<string, { make: (o: never) => Validatable; file: string | null }> = {
  "apps/v1 Deployment": { make: (o) => new Deployment(o), file: "apps/v1/Deployment" },
  "apps/v1 StatefulSet": { make: (o) => new StatefulSet(o), file: "apps/v1/StatefulSet" },
  "batch/v1 Job": { make: (o) => new Job(o), file: "batch/v1/Job" },
  "rbac.authorization.k8s.io/v1 Role": {
    make: (o) => new Role(o),
    file: "rbac.authorization.k8s.io/v1/Role",
  },
  "rbac.authorization.k8s.io/v1 RoleBinding": {
    make: (o) => new RoleBinding(o),
    file: "rbac.authorization.k8s.io/v1/RoleBinding",
  },
  "v1 ConfigMap": { make: (o) => new ConfigMap(o), file: "v1/ConfigMap" },
  "v1 PersistentVolumeClaim": { make: (o) => new PersistentVolumeClaim(o), file: "v1/PersistentVolumeClaim" },
  "v1 Pod": { make: (o) => new Pod(o), file: "v1/Pod" },
  "v1 Secret": { make: (o) => new Secret(o), file: "v1/Secret" },
  "v1 Service": { make: (o) => new Service(o), file: "v1/Service" },
  "v1 ServiceAccount": { make: (o) => new ServiceAccount(o), file: "v1/ServiceAccount" },
  "keda.sh/v1alpha1 ScaledObject": { make: (o) => new ScaledObject(o), file: null },
  "keda.sh/v1alpha1 TriggerAuthentication": { make: (o) => new TriggerAuthentication(o), file: null },
};

/** Kinds this file validates by schema (others must be checked by shape in the tests). */
export const MODELLED = new Set(Object.keys(MODELS));

/** The problems of one manifest against the Kubernetes schema: [] when it is valid. */
export function schemaProblems(m: Manifest): string[] {
  const key = `${m.apiVersion} ${m.kind}`;
  const model = MODELS[key];
  if (model === undefined) return [`${m.kind}/${m.metadata.name}: no schema for ${key}`];
  const problems: string[] = [];
  try {
    model.make(m as never).validate();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  if (model.file !== null)
    for (const path of unknownFields(m, model.file)) problems.push(`unknown field ${path}`);
  return problems.map((p) => `${m.kind}/${m.metadata.name}: ${p}`);
}
