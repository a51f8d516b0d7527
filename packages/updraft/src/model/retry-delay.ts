import { createHash } from "node:crypto";
import { UpdraftError } from "../common/errors.js";
import { pythonStr } from "./run-id.js";

/** No retry waits longer than a day, whatever the backoff computes (Airflow's MAX_RETRY_DELAY). */
export const MAX_RETRY_DELAY_MS = 24 * 60 * 60 * 1000;

/** Airflow's default `retry_delay` (5 minutes), used for a task its DAG no longer has. */
export const DEFAULT_RETRY_DELAY_MS = 5 * 60 * 1000;

export interface RetryDelayInput {
  /** The task's `retry_delay`. */
  readonly retryDelayMs: number;
  readonly exponentialBackoff: boolean;
  /** The task's `max_retry_delay`; only applies with exponential backoff, as in Airflow. */
  readonly maxRetryDelayMs?: number | null;
  /** The 1-based number of the try that just failed. */
  readonly tryNumber: number;
  readonly dagId: string;
  readonly taskId: string;
  /** The run's logical date; null for a run without one. Part of the jitter's seed. */
  readonly logicalDate: Date | string | null;
}

/**
 * How long to wait before the next try of a task instance, in milliseconds (Airflow's
 * `next_retry_datetime`).
 *
 * Without backoff it is `retry_delay`. With backoff, for the try that just failed:
 * `m = max(1, ceil(retry_delay_s * 2^(try_number - 1)))` seconds, then a deterministic jitter
 * `m + (h mod m)` in [m, 2m), where `h` is the whole SHA-1 digest, read as one unsigned integer, of
 * `dag_id#task_id#logical_date#try_number`, the logical date as Python's `str()` prints it
 * (`2024-01-03 00:00:00+00:00`; `None` when there is none), exactly as Airflow 2.10 hashes it, so
 * the same DAG retries at the same moments in both systems. The result is capped by
 * `max_retry_delay` when given, and always by 24 h (Airflow's `core.max_task_retry_delay`).
 *
 * @example
 * ```ts
 * nextRetryDelayMs({ retryDelayMs: 300_000, exponentialBackoff: false, tryNumber: 1, dagId: "d", taskId: "t", logicalDate: null });
 * // 300000
 * ```
 */
export function nextRetryDelayMs(input: RetryDelayInput): number {
  const { retryDelayMs, tryNumber } = input;
  if (!Number.isFinite(retryDelayMs) || retryDelayMs < 0) {
    throw new UpdraftError(
      "INVALID_RETRY_DELAY",
      `retry_delay must be a finite number of milliseconds ≥ 0, got ${retryDelayMs}.`,
    );
  }
  if (!Number.isInteger(tryNumber) || tryNumber < 1) {
    throw new UpdraftError("INVALID_TRY_NUMBER", `try_number must be an integer ≥ 1, got ${tryNumber}.`);
  }
  if (!input.exponentialBackoff) return retryDelayMs;

  const minBackoffS = Math.max(1, Math.ceil((retryDelayMs / 1000) * 2 ** (tryNumber - 1)));
  // The jitter only adds, so once the minimum reaches the hard cap the hash cannot matter (and
  // 2^try_number may no longer be a finite number).
  const delayS =
    minBackoffS >= MAX_RETRY_DELAY_MS / 1000
      ? MAX_RETRY_DELAY_MS / 1000
      : minBackoffS + jitterSeconds(input, minBackoffS);
  let delayMs = Math.min(delayS * 1000, MAX_RETRY_DELAY_MS);
  const max = input.maxRetryDelayMs;
  if (max !== undefined && max !== null && max > 0) delayMs = Math.min(delayMs, max);
  return delayMs;
}

function jitterSeconds(input: RetryDelayInput, modulus: number): number {
  // Python formats a missing execution date as "None" in the f-string.
  const date =
    input.logicalDate === null
      ? "None"
      : pythonStr(typeof input.logicalDate === "string" ? new Date(input.logicalDate) : input.logicalDate);
  const seed = `${input.dagId}#${input.taskId}#${date}#${input.tryNumber}`;
  const digest = createHash("sha1").update(seed, "utf8").digest("hex");
  return Number(BigInt(`0x${digest}`) % BigInt(modulus));
}
