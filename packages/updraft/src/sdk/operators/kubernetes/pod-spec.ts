// The Pod a KubernetesPodOperator try creates, built from its rendered fields. Pure: the names
// and labels that identify the try come in ready (src/kube/pod-names.ts computes them).
import { addXcomSidecar } from "./xcom-sidecar.js";

/** The container whose log and exit code are the task's, as in Airflow. */
export const BASE_CONTAINER = "base";

export interface PodIdentity {
  name: string;
  namespace: string;
  /** Labels of the try (dag_id, task_id, run_id, map_index, try_number…), added to the user's. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

type Obj = Record<string, unknown>;

function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Obj)) out[k] = String(v);
  return out;
}

function strings(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.map((v) => String(v));
}

/** Leaves out what is undefined or empty, so that the manifest shows only what was asked. */
function prune(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0 && k !== "emptyDir")
      continue;
    out[k] = v;
  }
  return out;
}

/** Resource quantities as strings (a number is a quantity too: `cpu: 2`). */
function resources(value: unknown): Obj | undefined {
  if (value === undefined || value === null) return undefined;
  const r = value as { requests?: Obj; limits?: Obj };
  return prune({ requests: stringMap(r.requests), limits: stringMap(r.limits) });
}

/**
 * The Pod manifest (`v1` Pod) for rendered operator fields: one container named `base` with the
 * image, command, arguments, environment and resources; scheduling fields on the Pod; restart
 * policy Never (a failed container fails the try, and the task's retries decide what next);
 * the XCom sidecar when `doXcomPush`.
 */
export function buildPodManifest(fields: Obj, id: PodIdentity, xcomSidecarImage?: string): Obj {
  const env = stringMap(fields.envVars);
  const base = prune({
    name: BASE_CONTAINER,
    image: String(fields.image),
    command: strings(fields.cmds),
    args: strings(fields.arguments),
    env: env === undefined ? undefined : Object.entries(env).map(([name, value]) => ({ name, value })),
    envFrom: fields.envFrom as Obj[] | undefined,
    resources: resources(fields.resources),
    imagePullPolicy: fields.imagePullPolicy,
    volumeMounts: fields.volumeMounts as Obj[] | undefined,
  });
  const pullSecrets = strings(fields.imagePullSecrets)?.map((name) => ({ name }));
  const pod: Obj = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: prune({
      name: id.name,
      namespace: id.namespace,
      labels: { ...stringMap(fields.labels), ...id.labels },
      annotations: { ...stringMap(fields.annotations), ...id.annotations },
    }),
    spec: prune({
      restartPolicy: "Never",
      containers: [base],
      nodeSelector: stringMap(fields.nodeSelector),
      tolerations: fields.tolerations as Obj[] | undefined,
      affinity: fields.affinity as Obj | undefined,
      serviceAccountName: fields.serviceAccountName,
      imagePullSecrets: pullSecrets,
      volumes: fields.volumes as Obj[] | undefined,
    }),
  };
  return fields.doXcomPush === true ? addXcomSidecar(pod, xcomSidecarImage) : pod;
}
