/** Server-side defaults the API server fills in on create (what clients read back). */
import type { KubeObject } from "./types.js";

const SUFFIX_CHARS = "bcdfghjklmnpqrstvwxz2456789";

/** generateName + 5 random characters, from the API server's alphabet (no vowels). */
export function generatedName(prefix: string): string {
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return `${prefix}${suffix}`;
}

export function defaultPod(pod: KubeObject): void {
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  pod.spec = spec;
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.serviceAccountName ??= (spec.serviceAccount as string | undefined) ?? "default";
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  for (const list of [spec.initContainers, spec.containers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list as Record<string, unknown>[]) {
      const image = typeof c.image === "string" ? c.image : "";
      const tagged = /:[^/]+$/.test(image.split("@")[0]!) && !image.endsWith(":latest");
      c.imagePullPolicy ??= tagged || image.includes("@") ? "IfNotPresent" : "Always";
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      c.resources ??= {};
    }
  }
}

/** `stringData` is write-only: merged into `data` (base64) on write, as the API server does. */
export function defaultSecret(secret: KubeObject): void {
  secret.type ??= "Opaque";
  const stringData = secret.stringData as Record<string, string> | undefined;
  if (stringData !== undefined) {
    const data = { ...((secret.data ?? {}) as Record<string, string>) };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString("base64");
    secret.data = data;
    delete secret.stringData;
  }
}
