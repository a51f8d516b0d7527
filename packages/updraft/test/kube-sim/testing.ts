/** Shared by the simulator's own tests: clients for a running simulator, and polling. */
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import type { KubeSim } from "./index.js";

export function clients(sim: KubeSim) {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
  };
}

/** Polls until `check` returns a value other than undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The HTTP status of a failed client call (ApiException.code). */
export async function statusOf(
  call: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body =
      typeof e.body === "string"
        ? (JSON.parse(e.body) as Record<string, unknown>)
        : ((e.body ?? {}) as Record<string, unknown>);
    return { code: e.code ?? -1, body };
  }
  throw new Error("the call succeeded; an API error was expected");
}

export function podPhase(sim: KubeSim, name: string, namespace = "default"): string | undefined {
  const pod = sim.pods(namespace).find((p) => p.metadata.name === name);
  return (pod?.status as { phase?: string } | undefined)?.phase;
}

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** The real kubectl (unpacked by scripts/kube-tools.mjs on first use). */
export function kubectlPath(): string {
  const out = execFileSync(process.execPath, [join(REPO_ROOT, "scripts", "kube-tools.mjs")], {
    encoding: "utf8",
  });
  const m = /^kubectl:\s*(\S+)/m.exec(out);
  if (m === null) throw new Error(`scripts/kube-tools.mjs printed no kubectl path: ${out}`);
  return m[1]!;
}

/**
 * Runs kubectl against the simulator, asynchronously: the simulator lives in this process, so a
 * synchronous child would stop it from answering.
 */
export function kubectl(
  sim: KubeSim,
  bin: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      bin,
      ["--kubeconfig", sim.kubeconfigPath, ...args],
      { timeout: timeoutMs, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code =
          err === null
            ? 0
            : typeof (err as { code?: unknown }).code === "number"
              ? (err as { code: number }).code
              : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
