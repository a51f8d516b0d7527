/** A kubeconfig for the simulator: context "kube-sim", namespace "default", a token that is not checked. */
import { writeFileSync } from "node:fs";
import { stringify } from "yaml";

export function kubeconfigText(url: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    // The official client refuses plain HTTP unless TLS verification is skipped (there is no TLS here).
    clusters: [{ name: "kube-sim", cluster: { server: url, "insecure-skip-tls-verify": true } }],
    users: [{ name: "kube-sim", user: { token: "kube-sim" } }],
    contexts: [
      { name: "kube-sim", context: { cluster: "kube-sim", user: "kube-sim", namespace: "default" } },
    ],
    "current-context": "kube-sim",
    preferences: {},
  });
}

export function writeKubeconfig(path: string, url: string): void {
  writeFileSync(path, kubeconfigText(url), { mode: 0o600 });
}
