// How many processes the kernel's out-of-memory killer has killed since boot (Linux 4.13+,
// /proc/vmstat), or null where that cannot be read. A runner that dies of SIGKILL was killed by the
// OOM killer only if this count rose while it ran; otherwise someone sent the signal.
import { readFileSync } from "node:fs";

export function oomKillCount(): number | null {
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync("/proc/vmstat", "utf8"));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}
