// CPU time (ms) of the processes a UI benchmark runs, by part: this Node process (the API server),
// the bench database's PostgreSQL backends, and Chromium's processes by type (renderer, gpu,
// browser, utility…). On a loaded machine a frame's length mostly measures waiting for the cores;
// the CPU each part takes during a scroll is what competes with the renderer for them, and it does
// not grow with the load. Linux only (/proc); elsewhere every part reads 0.
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = 100;

/**
 * CPU ms of `pid` so far; with `reaped`, also of its children that exited and were waited for
 * (cutime, cstime): runner processes that retired during a measurement still count.
 */
export function procCpuMs(pid, { reaped = false } = {}) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const parts = f.slice(f.lastIndexOf(")") + 2).split(" ");
    const own = Number(parts[11]) + Number(parts[12]);
    const children = reaped ? Number(parts[13]) + Number(parts[14]) : 0;
    return ((own + children) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** The pids of the processes whose command name (/proc/PID/comm) is `name`, e.g. "redis-server". */
export function pidsNamed(name) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === name) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * The whole machine's CPU time so far (/proc/stat, ms summed over all cores): `busy` (user, nice,
 * system, irq, softirq, steal) and `total` (with idle and iowait).
 */
export function machineCpuMs() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: (busy * 1000) / CLK_TCK, total: ((busy + idle + iowait) * 1000) / CLK_TCK };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** The direct children of `pid` (every thread's). */
export function childPids(pid) {
  try {
    const out = [];
    for (const t of readdirSync(`/proc/${pid}/task`))
      out.push(
        ...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
      );
    return out;
  } catch {
    return [];
  }
}

export function descendants(pid) {
  const out = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop();
    let kids = [];
    try {
      for (const t of readdirSync(`/proc/${p}/task`))
        kids.push(
          ...readFileSync(`/proc/${p}/task/${t}/children`, "utf8")
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map(Number),
        );
    } catch {
      kids = [];
    }
    out.push(...kids);
    todo.push(...kids);
  }
  return out;
}

function chromiumType(pid) {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /--type=([a-z-]+)/.exec(cmd)?.[1] ?? "browser";
  } catch {
    return "gone";
  }
}

/**
 * A snapshot: ms of CPU per part so far. `pgPids` are the bench database's backends; Chromium is
 * this process's child (Playwright launches it), its renderers under its zygote.
 */
export function cpuSnapshot(pgPids) {
  const self = process.cpuUsage();
  const parts = { server: (self.user + self.system) / 1000, postgres: 0 };
  for (const pid of pgPids) parts.postgres += procCpuMs(pid);
  for (const pid of descendants(process.pid)) {
    const type = chromiumType(pid);
    if (type === "zygote" || type === "gone") continue;
    parts[type] = (parts[type] ?? 0) + procCpuMs(pid);
  }
  return parts;
}

/** "renderer 4.1 s, gpu-process 2.0 s, …" for the CPU taken between two snapshots, most first. */
export function cpuBetween(a, b) {
  return Object.entries(b)
    .map(([k, v]) => [k, v - (a[k] ?? 0)])
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`)
    .join(", ");
}
