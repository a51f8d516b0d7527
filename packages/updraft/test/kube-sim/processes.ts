/**
 * How a container becomes a local process: volumes as temporary folders, env from the spec and
 * Secrets, argv from command/args/the image, and container paths rewritten to those folders
 * (the process runs on the host, so `/airflow/xcom` must mean a real folder).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
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

/** Volume name → local folder, created once per Pod (emptyDir shared by its containers). */
export function prepareVolumes(pod: KubeObject, podDir: string, store: Store): Map<string, string> {
  const ns = pod.metadata.namespace!;
  const volumes = (pod.spec as { volumes?: VolumeSpec[] }).volumes ?? [];
  const dirs = new Map<string, string>();
  for (const v of volumes) {
    const local = join(podDir, "volumes", v.name);
    if (v.hostPath !== undefined) {
      if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
      dirs.set(v.name, v.hostPath.path);
      continue;
    }
    mkdirSync(local, { recursive: true });
    dirs.set(v.name, local);
    const sources: { kind: "secrets" | "configmaps"; ref: KeyedSource }[] = [];
    if (v.secret !== undefined)
      sources.push({ kind: "secrets", ref: { ...v.secret, name: v.secret.secretName } });
    if (v.configMap !== undefined) sources.push({ kind: "configmaps", ref: v.configMap });
    for (const p of v.projected?.sources ?? []) {
      if (p.secret !== undefined) sources.push({ kind: "secrets", ref: p.secret });
      if (p.configMap !== undefined) sources.push({ kind: "configmaps", ref: p.configMap });
    }
    for (const { kind, ref } of sources) {
      const data = keyedData(store, kind, ns, ref.name);
      if (data === undefined) {
        if (ref.optional === true) continue;
        throw new ContainerConfigError(
          "FailedMount",
          `MountVolume.SetUp failed for volume "${v.name}" : ${kind === "secrets" ? "secret" : "configmap"} "${ref.name}" not found`,
        );
      }
      const items = ref.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined) continue;
        const file = join(local, item.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, value, { mode: 0o644 });
      }
    }
  }
  return dirs;
}

interface KeyedSource {
  name: string;
  optional?: boolean;
  items?: { key: string; path: string }[];
}

interface VolumeSpec {
  name: string;
  emptyDir?: object;
  hostPath?: { path: string; type?: string };
  secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
  configMap?: KeyedSource;
  projected?: { sources?: { secret?: KeyedSource; configMap?: KeyedSource }[] };
}

/** A Secret's data decoded (or a ConfigMap's data), undefined when the object does not exist. */
function keyedData(
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

/** mountPath → local folder for one container, longest first (nested mounts win). */
export function mountMap(container: ContainerSpec, volumes: Map<string, string>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const m of container.volumeMounts ?? []) {
    const dir = volumes.get(m.name);
    if (dir === undefined) continue;
    const local = m.subPath !== undefined && m.subPath !== "" ? join(dir, m.subPath) : dir;
    if (m.subPath !== undefined && m.subPath !== "") mkdirSync(local, { recursive: true });
    pairs.push([m.mountPath.replace(/\/+$/, "") || "/", local]);
  }
  return pairs.sort((a, b) => b[0].length - a[0].length);
}

/** Replaces each container path under a mount by the local path, at path boundaries only. */
export function rewritePaths(text: string, mounts: [string, string][]): string {
  let out = text;
  for (const [mountPath, local] of mounts) {
    if (mountPath === "/") continue;
    const escaped = mountPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const re = new RegExp(`(^|[^A-Za-z0-9_./-])${escaped}(?=$|/|[^A-Za-z0-9_.-])`, "g");
    out = out.replace(re, (_m, before: string) => `${before}${local}`);
  }
  return out;
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

/** The host variables a process needs to run at all; nothing else leaks from the host. */
const HOST_ENV = ["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];

export function spawnContainer(
  argv: string[],
  env: Record<string, string>,
  cwd: string | undefined,
): ChildProcess {
  const base: Record<string, string> = {};
  for (const k of HOST_ENV) if (process.env[k] !== undefined) base[k] = process.env[k]!;
  // Its own process group, so that deleting the Pod also kills what its command started.
  return spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

/** Signals a container's whole process group. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The group may outlive its leader (`sh -c "sleep 60 &"`): signal it even after the leader exited.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}
