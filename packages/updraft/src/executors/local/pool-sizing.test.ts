import { describe, expect, test } from "vitest";
import { LONG_HOLD_MS, PoolSizing } from "./pool-sizing.js";

describe("PoolSizing", () => {
  test("starts at its eager size, grows for waiting work and falls back when idle", () => {
    const s = new PoolSizing({ parallelism: 16, minWarm: 2, eager: 4 });
    expect(s.target).toBe(4);
    expect(s.grow(LONG_HOLD_MS)).toBe(true);
    expect(s.target).toBe(8);
    s.shrink();
    expect(s.target).toBe(4);
  });

  test("a new eager size applies at once, or when idle if the pool has grown", () => {
    const s = new PoolSizing({ parallelism: 16, minWarm: 1, eager: 4 });
    s.setEager(2);
    expect(s.target).toBe(2);
    s.grow(LONG_HOLD_MS);
    expect(s.target).toBe(4);
    s.setEager(1); // grown for the work: kept until the pool sits idle
    expect(s.target).toBe(4);
    s.shrink();
    expect(s.target).toBe(1);
  });

  test("does not grow while the processes hold their tries only briefly (the engine is slow, not the tasks)", () => {
    const s = new PoolSizing({ parallelism: 16, minWarm: 2, eager: 4 });
    expect(s.grow(LONG_HOLD_MS / 4)).toBe(false);
    expect(s.target).toBe(4);
  });

  test("an eager size stays within minWarm and parallelism", () => {
    const s = new PoolSizing({ parallelism: 6, minWarm: 2, eager: 40 });
    expect(s.target).toBe(6);
    s.setEager(0);
    expect(s.target).toBe(2);
  });

  test("tries that mostly wait take the pool to parallelism", () => {
    const s = new PoolSizing({ parallelism: 16, minWarm: 2, eager: 4 });
    s.observe(100, 5);
    expect(s.tasksWait).toBe(true);
    expect(s.target).toBe(16);
    s.setEager(2);
    expect(s.target).toBe(16);
  });
});
