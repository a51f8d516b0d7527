/**
 * A Pod's volumes as local folders (emptyDir per Pod, Secret and ConfigMap keys as files,
 * hostPath as is), and container paths rewritten to them: the process runs on the host, so
 * `/airflow/xcom` must mean a real folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ContainerConfigError, type ContainerSpec, keyedData } from "./container-config.js";
import type { Store } from "./store.js";
import type { KubeObject } from "./types.js";

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
