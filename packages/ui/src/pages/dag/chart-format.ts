// Numbers on the charts' axes and tooltips: durations in the unit that suits their size, times of
// day, and time-axis ticks at round steps (1 s, 5 s, 1 min, 15 min, 1 h, …).

/** A duration in seconds as "1h 02m", "3m 05s", "4.2s". */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const sign = seconds < 0 ? "−" : "";
  let s = Math.abs(seconds);
  if (s < 10) return `${sign}${s.toFixed(s < 1 ? 2 : 1)}s`;
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h >= 24) return `${sign}${Math.floor(h / 24)}d ${h % 24}h`;
  if (h > 0) return `${sign}${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${sign}${m}m ${String(r).padStart(2, "0")}s`;
  return `${sign}${r}s`;
}

export interface DurationUnit {
  /** Seconds per unit. */
  size: number;
  /** Shown in axis labels, e.g. "min". */
  name: string;
}

/** The unit in which the largest value reads best (an axis of 0.5–90 units). */
export function durationUnit(maxSeconds: number): DurationUnit {
  if (maxSeconds >= 2 * 3600) return { size: 3600, name: "hours" };
  if (maxSeconds >= 2 * 60) return { size: 60, name: "minutes" };
  return { size: 1, name: "seconds" };
}

/** A time of day, local, with seconds: the Gantt's scale is seconds to hours. */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

const STEPS_S = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];

/**
 * Tick instants (ms) at a round step after `origin`, about `count` of them between `from` and
 * `to`: the Gantt labels them as time since the run's first task was queued.
 */
export function timeTicks(from: number, to: number, origin: number, count = 8): number[] {
  const span = Math.max(1, to - from) / 1000;
  const step = (STEPS_S.find((s) => span / s <= count) ?? 86400) * 1000;
  const ticks: number[] = [];
  for (let k = Math.ceil((from - origin) / step); origin + k * step <= to; k++) ticks.push(origin + k * step);
  return ticks;
}
