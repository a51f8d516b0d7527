// Typed views of rendered workloads, shared by the chart tests: a workload's Pod spec and
// containers, a container's environment by name, and a Secret's decoded values.
import type { Manifest } from "./render.js";

export type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
};
export type Probe = {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  tcpSocket?: { port: string | number };
  [timing: string]: unknown;
};
export type Container = {
  name: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string } }[];
  resources?: unknown;
  securityContext?: unknown;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
};
export type PodSpec = {
  containers: Container[];
  initContainers?: Container[];
  serviceAccountName?: string;
  securityContext?: unknown;
  terminationGracePeriodSeconds?: number;
  volumes?: {
    name: string;
    persistentVolumeClaim?: { claimName: string };
    configMap?: { name: string };
    emptyDir?: unknown;
  }[];
};

export const podSpec = (m: Manifest): PodSpec => (m["spec"] as { template: { spec: PodSpec } }).template.spec;

export const container = (m: Manifest, name?: string): Container => {
  const cs = podSpec(m).containers;
  const c = name === undefined ? cs[0] : cs.find((x) => x.name === name);
  if (c === undefined) throw new Error(`${m.kind}/${m.metadata.name} has no container ${name ?? ""}`);
  return c;
};

export const envOf = (c: Container): Map<string, EnvVar> => new Map((c.env ?? []).map((e) => [e.name, e]));

export const decoded = (secret: Manifest): Record<string, string> =>
  Object.fromEntries(
    Object.entries((secret["data"] as Record<string, string> | undefined) ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v, "base64").toString("utf8"),
    ]),
  );

/** Deployments, StatefulSets and Jobs: everything that runs Pods. */
export const workloads = (ms: Manifest[]): Manifest[] =>
  ms.filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet" || m.kind === "Job");
