/**
 * What a container needs before its process starts: a pullable image, its env (Secrets may be
 * missing yet), and argv/env/workingDir with mount paths rewritten to local folders.
 */
import type { Faults } from "./faults.js";
import { resolveImage } from "./images.js";
import {
  ContainerConfigError,
  type ContainerSpec,
  containerArgv,
  containerEnv,
  localArgv,
} from "./container-config.js";
import { mountMap, rewritePaths } from "./volumes.js";
import type { Store } from "./store.js";
import type { ImageSpec, KubeObject } from "./types.js";

export type Launch =
  | { kind: "pull-failed"; image: string }
  | { kind: "config-error"; message: string }
  | { kind: "ready"; argv: string[]; env: Record<string, string>; cwd: string };

export function prepareLaunch(
  pod: KubeObject,
  spec: ContainerSpec,
  volumes: Map<string, string>,
  podDir: string,
  images: Record<string, ImageSpec>,
  faults: Faults,
  store: Store,
): Launch {
  const imageName = spec.image ?? "";
  const image = resolveImage(images, imageName);
  if (image === undefined || faults.imagePullFails(imageName))
    return { kind: "pull-failed", image: imageName };
  let env: Record<string, string>;
  try {
    env = containerEnv(pod, spec, store);
  } catch (err) {
    if (!(err instanceof ContainerConfigError)) throw err;
    return { kind: "config-error", message: err.message };
  }
  const mounts = mountMap(spec, volumes);
  const rewrite = (s: string) => rewritePaths(s, mounts);
  for (const k of Object.keys(env)) env[k] = rewrite(env[k]!);
  env.HOSTNAME = pod.metadata.name;
  env.KUBE_SIM_MOUNTS = JSON.stringify(Object.fromEntries(mounts));
  const argv = localArgv(containerArgv(spec, image, env).map(rewrite), image);
  const cwd = spec.workingDir === undefined ? podDir : rewrite(spec.workingDir);
  return { kind: "ready", argv, env, cwd };
}
