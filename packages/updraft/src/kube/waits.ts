/** Throws the signal's reason (the runner's interruption) when it was aborted. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw signal.reason instanceof Error ? signal.reason : new Error("The task was stopped.");
}

/** Sleeps `ms`, or rejects at once with the signal's reason when it aborts first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted)
      return reject(signal.reason instanceof Error ? signal.reason : new Error("The task was stopped."));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new Error("The task was stopped."));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Quick at first (short tasks end quickly), then gentle on the API server. */
export function pollDelay(startedAt: number): number {
  return Date.now() - startedAt < 5000 ? 200 : 1000;
}
