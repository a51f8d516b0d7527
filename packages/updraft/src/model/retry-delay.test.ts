import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import { MAX_RETRY_DELAY_MS, nextRetryDelayMs } from "./retry-delay.js";

const base = {
  retryDelayMs: 300_000,
  exponentialBackoff: true,
  tryNumber: 1,
  dagId: "sales",
  taskId: "load",
  logicalDate: new Date("2024-01-01T00:00:00Z"),
} as const;

describe("nextRetryDelayMs", () => {
  it("returns retry_delay without backoff, uncapped by max_retry_delay (as Airflow)", () => {
    expect(nextRetryDelayMs({ ...base, exponentialBackoff: false, tryNumber: 7 })).toBe(300_000);
    expect(nextRetryDelayMs({ ...base, exponentialBackoff: false, maxRetryDelayMs: 1000 })).toBe(300_000);
  });

  it("is deterministic for the same task instance and try", () => {
    const a = nextRetryDelayMs({ ...base, tryNumber: 3 });
    expect(nextRetryDelayMs({ ...base, tryNumber: 3 })).toBe(a);
    expect(nextRetryDelayMs({ ...base, tryNumber: 3, logicalDate: "2024-01-01T00:00:00.000Z" })).toBe(a);
  });

  it("stays within [m, 2m) seconds, m = retry_delay * 2^(try-1)", () => {
    for (let tryNumber = 1; tryNumber <= 8; tryNumber++) {
      const m = 300 * 2 ** (tryNumber - 1);
      const delay = nextRetryDelayMs({ ...base, tryNumber });
      expect(delay % 1000).toBe(0);
      expect(delay).toBeGreaterThanOrEqual(Math.min(m * 1000, MAX_RETRY_DELAY_MS));
      expect(delay).toBeLessThan(Math.min(2 * m * 1000, MAX_RETRY_DELAY_MS + 1));
    }
  });

  // Airflow 2.10 airflow/models/taskinstance.py TaskInstance.next_retry_datetime: min_backoff =
  // max(1, ceil(retry_delay_s * 2 ** (try_number - 1))); ti_hash = int(sha1(
  // f"{dag_id}#{task_id}#{execution_date}#{try_number}").hexdigest(), 16); delay = min_backoff +
  // ti_hash % min_backoff, capped by MAX_RETRY_DELAY. The expected seconds below were computed by
  // that formula in CPython 3 with aware UTC datetimes (str() prints "2024-01-01 00:00:00+00:00").
  it.each([
    ["sales", "load", "2024-01-01T00:00:00Z", 1, 300, 591],
    ["sales", "load", "2024-01-01T00:00:00Z", 2, 300, 1181],
    ["sales", "load", "2024-01-01T00:00:00Z", 3, 300, 1667],
    ["sales", "load", "2024-03-05T06:07:08.250Z", 2, 60, 140],
    ["etl", "extract", null, 2, 10, 24],
    ["etl", "extract", "2024-03-05T06:07:08.250Z", 1, 0.5, 1],
  ] as const)(
    "retries %s.%s (%s, try %i, delay %ss) after the same %is as Airflow",
    (dagId, taskId, date, tryNumber, delayS, expectedS) => {
      const delay = nextRetryDelayMs({
        retryDelayMs: delayS * 1000,
        exponentialBackoff: true,
        tryNumber,
        dagId,
        taskId,
        logicalDate: date === null ? null : new Date(date),
      });
      expect(delay).toBe(expectedS * 1000);
    },
  );

  it("hashes the logical date as Python's str() prints it", () => {
    const digest = createHash("sha1").update("sales#load#2024-01-01 00:00:00+00:00#2").digest("hex");
    const m = 600;
    const expected = (m + Number(BigInt(`0x${digest}`) % BigInt(m))) * 1000;
    expect(nextRetryDelayMs({ ...base, tryNumber: 2 })).toBe(expected);
  });

  it("spreads different task instances apart", () => {
    const delays = new Set(
      Array.from({ length: 20 }, (_, i) => nextRetryDelayMs({ ...base, taskId: `t${i}`, tryNumber: 4 })),
    );
    expect(delays.size).toBeGreaterThan(10);
  });

  it("rounds a sub-second minimum up to 1 s, and a zero delay too", () => {
    for (const retryDelayMs of [0, 100]) {
      const delay = nextRetryDelayMs({ ...base, retryDelayMs, tryNumber: 1 });
      expect(delay).toBe(1000); // m = 1, so m + (h mod 1) = 1
    }
  });

  it("caps at max_retry_delay and always at 24 h", () => {
    expect(nextRetryDelayMs({ ...base, tryNumber: 6, maxRetryDelayMs: 3_600_000 })).toBe(3_600_000);
    expect(nextRetryDelayMs({ ...base, tryNumber: 20 })).toBe(MAX_RETRY_DELAY_MS);
    expect(nextRetryDelayMs({ ...base, tryNumber: 5000 })).toBe(MAX_RETRY_DELAY_MS);
    expect(nextRetryDelayMs({ ...base, tryNumber: 20, maxRetryDelayMs: 2 * MAX_RETRY_DELAY_MS })).toBe(
      MAX_RETRY_DELAY_MS,
    );
    expect(nextRetryDelayMs({ ...base, tryNumber: 20, maxRetryDelayMs: null })).toBe(MAX_RETRY_DELAY_MS);
  });

  it("accepts a run without a logical date", () => {
    const delay = nextRetryDelayMs({ ...base, logicalDate: null, tryNumber: 2 });
    expect(delay).toBeGreaterThanOrEqual(600_000);
    expect(delay).toBeLessThan(1_200_000);
  });

  it("rejects a bad try number or delay", () => {
    expect(() => nextRetryDelayMs({ ...base, tryNumber: 0 })).toThrow(/try_number must be an integer ≥ 1/);
    try {
      nextRetryDelayMs({ ...base, retryDelayMs: -1 });
      expect.unreachable();
    } catch (err) {
      expect(isUpdraftError(err, "INVALID_RETRY_DELAY")).toBe(true);
    }
  });
});
