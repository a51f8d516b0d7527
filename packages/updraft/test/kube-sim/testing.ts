/** Shared by the simulator's own tests: clients for a running simulator, and polling. */
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
