// The CPU cores this process may use: the machine's (os.availableParallelism, which honours CPU
// affinity) or, when lower, the CPU limit of its cgroup. In a container (a Kubernetes Pod with
// `resources.limits.cpu: 2` on a 32-core node) availableParallelism() reports the node's cores,
// and runner pools sized from it forked sixteen times the processes two cores keep busy.
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

export interface CgroupPaths {
  /** Where the cgroup file systems are mounted (default /sys/fs/cgroup). */
  root: string;
  /** This process's cgroup membership (default /proc/self/cgroup). */
  self: string;
}

const DEFAULT_PATHS: CgroupPaths = { root: "/sys/fs/cgroup", self: "/proc/self/cgroup" };

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

/** A quota over a period as cores, or null for "no limit" or anything unreadable. */
function cores(quota: number, period: number): number | null {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : null;
}

/**
 * The cgroup's CPU limit in cores (fractional), or null when there is none: cgroup v2's `cpu.max`
 * ("<quota> <period>", or "max <period>") in this process's cgroup or at the root of the mount (a
 * container's own), else cgroup v1's `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1: none).
 */
export function cgroupCpuLimit(paths: CgroupPaths = DEFAULT_PATHS): number | null {
  const v2 = read(paths.self)
    ?.split("\n")
    .find((l) => l.startsWith("0::"))
    ?.slice(3);
  for (const dir of [...(v2 !== undefined && v2 !== "/" ? [join(paths.root, v2)] : []), paths.root]) {
    const max = read(join(dir, "cpu.max"));
    if (max === null) continue;
    const [quota, period] = max.split(/\s+/);
    return quota === "max" ? null : cores(Number(quota), Number(period));
  }
  const quota = read(join(paths.root, "cpu", "cpu.cfs_quota_us"));
  const period = read(join(paths.root, "cpu", "cpu.cfs_period_us"));
  return quota === null || period === null ? null : cores(Number(quota), Number(period));
}

/** Whole cores this process may keep busy: at least 1, at most the machine's. */
export function cpuCores(paths: CgroupPaths = DEFAULT_PATHS): number {
  const machine = availableParallelism();
  const limit = cgroupCpuLimit(paths);
  return limit === null ? machine : Math.max(1, Math.min(machine, Math.ceil(limit)));
}
