// Reading what the XCom sidecar prints as it stops (decision 0024): the follow-stream of its log
// is opened first, then the sidecar is told to stop, then the stream is read to its end.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { apiStatus } from "./api-errors.js";
import { followContainerLog } from "./log-follow.js";
import { containerEnd } from "./pod-state.js";
import { sleepUnlessAborted, throwIfAborted } from "./waits.js";

/** How long the sidecar may take to print the file once told to stop. */
const SIDECAR_MS = 60_000;

export interface SidecarOutputOptions {
  kc: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
  signal: AbortSignal;
  read(): Promise<V1Pod>;
  /** Makes the kubelet send the sidecar SIGTERM (deleting the Pod, or an active deadline). */
  stopSidecar(): Promise<void>;
}

/** The lines the sidecar printed (empty when it printed nothing within a minute). */
export async function readSidecarOutput(o: SidecarOutputOptions): Promise<string[]> {
  const lines: string[] = [];
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener("abort", onAbort, { once: true });
  const sidecarEnded = (async () => {
    for (;;) {
      await sleepUnlessAborted(200, stop.signal).catch(() => undefined);
      if (stop.signal.aborted) return;
      try {
        if (containerEnd(await o.read(), o.container) !== null) return;
      } catch (err) {
        if (apiStatus(err) === 404) return;
      }
    }
  })();
  let opened: () => void = () => undefined;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const reading = followContainerLog({
    kc: o.kc,
    namespace: o.namespace,
    pod: o.pod,
    container: o.container,
    onLine: (l) => lines.push(l),
    containerEnded: sidecarEnded,
    signal: stop.signal,
    onOpen: () => opened(),
  });
  const timer = setTimeout(() => stop.abort(), SIDECAR_MS);
  try {
    // What the sidecar prints as it stops must find the stream open: a stopped Pod's log may be gone.
    await Promise.race([open, reading, sleepUnlessAborted(SIDECAR_MS, o.signal)]);
    await o.stopSidecar();
    await reading;
  } finally {
    clearTimeout(timer);
    stop.abort();
    o.signal.removeEventListener("abort", onAbort);
  }
  throwIfAborted(o.signal);
  return lines;
}
