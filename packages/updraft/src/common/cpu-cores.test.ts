import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { cgroupCpuLimit, cpuCores } from "./cpu-cores.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake cgroup mount and /proc/self/cgroup holding `files` (paths relative to the mount). */
function fake(files: Record<string, string>, self = "0::/\n") {
  const base = mkdtempSync(join(tmpdir(), "updraft-cgroup-"));
  dirs.push(base);
  const root = join(base, "sys-fs-cgroup");
  mkdirSync(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  writeFileSync(join(base, "self-cgroup"), self);
  return { root, self: join(base, "self-cgroup") };
}

describe("the cgroup's CPU limit", () => {
  test("cgroup v2: a quota over its period, in this process's cgroup or at the mount's root", () => {
    expect(cgroupCpuLimit(fake({ "cpu.max": "200000 100000\n" }))).toBe(2);
    expect(cgroupCpuLimit(fake({ "kubepods/pod1/cpu.max": "50000 100000" }, "0::/kubepods/pod1\n"))).toBe(
      0.5,
    );
    expect(cgroupCpuLimit(fake({ "cpu.max": "max 100000" }))).toBeNull();
  });

  test("cgroup v1: cfs quota and period; -1 is no limit", () => {
    expect(
      cgroupCpuLimit(fake({ "cpu/cpu.cfs_quota_us": "300000", "cpu/cpu.cfs_period_us": "100000" }, "")),
    ).toBe(3);
    expect(
      cgroupCpuLimit(fake({ "cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000" }, "")),
    ).toBeNull();
  });

  test("nothing readable is no limit", () => {
    expect(cgroupCpuLimit(fake({}, ""))).toBeNull();
    expect(cgroupCpuLimit(fake({ "cpu.max": "garbage" }))).toBeNull();
  });

  test("the cores to use: the limit rounded up, at least 1, never more than the machine's", () => {
    expect(cpuCores(fake({ "cpu.max": "50000 100000" }))).toBe(1);
    expect(cpuCores(fake({ "cpu.max": `${100000 * (availableParallelism() + 8)} 100000` }))).toBe(
      availableParallelism(),
    );
    expect(cpuCores(fake({ "cpu.max": "max 100000" }))).toBe(availableParallelism());
  });
});
