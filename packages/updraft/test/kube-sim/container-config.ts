/**
 * A container's configuration as the kubelet resolves it: env from the spec, Secrets, ConfigMaps
 * and the downward API (`$(VAR)` expanded), and argv from command/args and the image.
 */
import { basename } from "node:path";
import type { Store } from "./store.js";
import type { ImageSpec, KubeObject } from "./types.js";

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: {
    secretRef?: { name: string; optional?: boolean };
    configMapRef?: { name: string; optional?: boolean };
    prefix?: string;
  }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { resource: string };
  };
}

/** Raised when a container cannot start yet (a Secret it needs is missing): the kubelet retries. */
export class ContainerConfigError extends Error {
  constructor(
    readonly reason: "CreateContainerConfigError" | "FailedMount",
    message: string,
  ) {
    super(message);
  }
}

/** The container's environment: envFrom, then env (later wins), `$(VAR)` expanded as Kubernetes does. */
export function containerEnv(
  pod: KubeObject,
  container: ContainerSpec,
  store: Store,
): Record<string, string> {
  const ns = pod.metadata.namespace!;
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    if (ref === undefined) continue;
    const kind = from.secretRef !== undefined ? "secrets" : "configmaps";
    const data = keyedData(store, kind, ns, ref.name);
    if (data === undefined) {
      if (ref.optional === true) continue;
      throw new ContainerConfigError(
        "CreateContainerConfigError",
        `${kind === "secrets" ? "secret" : "configmap"} "${ref.name}" not found`,
      );
    }
    for (const [k, v] of Object.entries(data)) env[(from.prefix ?? "") + k] = v.toString();
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? "", env);
      continue;
    }
    const value = fromSource(pod, e, store);
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}

function fromSource(pod: KubeObject, e: EnvVar, store: Store): string | undefined {
  const ns = pod.metadata.namespace!;
  const vf = e.valueFrom!;
  const keyed = vf.secretKeyRef ?? vf.configMapKeyRef;
  if (keyed !== undefined) {
    const kind = vf.secretKeyRef !== undefined ? "secrets" : "configmaps";
    const noun = kind === "secrets" ? "secret" : "configmap";
    const data = keyedData(store, kind, ns, keyed.name);
    if (data === undefined) {
      if (keyed.optional === true) return undefined;
      throw new ContainerConfigError("CreateContainerConfigError", `${noun} "${keyed.name}" not found`);
    }
    const value = data[keyed.key];
    if (value === undefined) {
      if (keyed.optional === true) return undefined;
      throw new ContainerConfigError(
        "CreateContainerConfigError",
        `couldn't find key ${keyed.key} in Secret ${ns}/${keyed.name}`,
      );
    }
    return value.toString();
  }
  if (vf.fieldRef !== undefined) return fieldRef(pod, vf.fieldRef.fieldPath);
  return "";
}

function fieldRef(pod: KubeObject, path: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m !== null) return pod.metadata[m[1] as "labels" | "annotations"]?.[m[2]!] ?? "";
  const spec = pod.spec as Record<string, unknown>;
  const status = (pod.status ?? {}) as Record<string, unknown>;
  const values: Record<string, unknown> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "metadata.uid": pod.metadata.uid,
    "spec.nodeName": spec.nodeName,
    "spec.serviceAccountName": spec.serviceAccountName ?? "default",
    "status.hostIP": status.hostIP,
    "status.podIP": status.podIP,
  };
  const v = values[path];
  return v === undefined || v === null ? "" : String(v);
}

/** `$(VAR)` → its value when defined; `$$(VAR)` → the literal `$(VAR)`. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (name === undefined) return "$";
    return env[name] ?? all;
  });
}

/** argv as the runtime builds it: (command ?? ENTRYPOINT) ++ (args ?? CMD when command is unset). */
export function containerArgv(
  container: ContainerSpec,
  image: ImageSpec,
  env: Record<string, string>,
): string[] {
  const command = container.command ?? image.entrypoint ?? [];
  const args = container.args ?? (container.command === undefined ? (image.cmd ?? []) : []);
  return [...command, ...args].map((a) => expand(a, env));
}

/** Maps argv[0] through the image's commands (exact, then by base name). */
export function localArgv(argv: string[], image: ImageSpec): string[] {
  const [first, ...rest] = argv;
  if (first === undefined) return [];
  const prefix = image.commands?.[first] ?? image.commands?.[basename(first)];
  return prefix === undefined ? argv : [...prefix, ...rest];
}

/** A Secret's data decoded (or a ConfigMap's data), undefined when the object does not exist. */
export function keyedData(
  store: Store,
  kind: "secrets" | "configmaps",
  ns: string,
  name: string,
): Record<string, Buffer> | undefined {
  const object = store.get(kind, ns, name);
  if (object === undefined) return undefined;
  const out: Record<string, Buffer> = {};
  const data = (object.data ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(data))
    out[k] = kind === "secrets" ? Buffer.from(v, "base64") : Buffer.from(v);
  return out;
}
