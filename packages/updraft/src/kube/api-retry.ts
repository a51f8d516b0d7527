// Transient API failures (5xx, 429, a dropped connection) are retried a few times with backoff
// before they fail a try: an API server restart or a busy control plane must not fail a
// task whose Pod runs fine. 4xx answers are final (the caller decides about 404 and 409).
import { apiStatus } from "./api-errors.js";
import { sleepUnlessAborted } from "./waits.js";

const DELAYS_MS = [250, 500, 1000, 2000, 4000];

function transient(err: unknown): boolean {
  const status = apiStatus(err);
  if (status === undefined) return !(err instanceof Error && err.name === "UpdraftError");
  return status === 429 || status >= 500;
}

/** Runs `call`, retrying transient failures; `signal` stops the waiting between attempts. */
export async function withRetries<T>(
  call: () => Promise<T>,
  signal: AbortSignal,
  onRetry?: (err: unknown) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const delay = DELAYS_MS[attempt];
      if (delay === undefined || !transient(err) || signal.aborted) throw err;
      onRetry?.(err);
      await sleepUnlessAborted(delay, signal);
    }
  }
}
