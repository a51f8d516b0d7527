// Failed logins per user name and per client address: after 5 failures within a minute, further
// attempts on that name or from that address are refused with 429 and Retry-After until the
// oldest failure leaves the window. In memory: each API server counts its own (a guess spread
// over N servers gets N × 5 tries a minute, still far too few to guess a password).
import { UpdraftError } from "../../common/errors.js";

export interface LoginLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  now?: () => number;
}

/** Enough keys for a busy server; beyond it the oldest are forgotten (the map never grows unbounded). */
const MAX_KEYS = 50_000;

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.max = options.maxFailures ?? 5;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  /** LOGIN_RATE_LIMITED (429, with the seconds to wait) when any key has used up its failures. */
  check(username: string, address: string): void {
    for (const [key, what] of [
      [`user:${username}`, `user "${username}"`],
      [`addr:${address}`, `address ${address}`],
    ] as const) {
      const times = this.recent(key);
      if (times.length >= this.max) {
        const retryAfterS = Math.max(1, Math.ceil(((times[0] ?? 0) + this.windowMs - this.now()) / 1000));
        throw new UpdraftError(
          "LOGIN_RATE_LIMITED",
          `Too many failed logins for ${what}: ${this.max} within ${this.windowMs / 1000} s. Try again in ${retryAfterS} s.`,
          { details: { retry_after_s: retryAfterS } },
        );
      }
    }
  }

  fail(username: string, address: string): void {
    for (const key of [`user:${username}`, `addr:${address}`]) {
      const times = this.recent(key);
      times.push(this.now());
      this.failures.delete(key);
      this.failures.set(key, times);
    }
    while (this.failures.size > MAX_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  /** A good password clears the name's failures (the address keeps its count). */
  succeed(username: string): void {
    this.failures.delete(`user:${username}`);
  }
}
