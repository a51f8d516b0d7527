// The one interface every component emits metrics through. Names are Airflow's StatsD names
// (without the prefix), so dashboards built for Airflow work unchanged. Emission never awaits:
// a metric must never slow or fail the work it describes.

/** Labels that DogStatsD tags and Prometheus labels carry (dag_id, task_id, pool, …). */
export type MetricTags = Readonly<Record<string, string>>;

export interface Metrics {
  /** Adds `by` (default 1) to a counter. */
  incr(name: string, by?: number, tags?: MetricTags): void;
  /** Sets a gauge. */
  gauge(name: string, value: number, tags?: MetricTags): void;
  /** Records a duration in milliseconds. */
  timing(name: string, ms: number, tags?: MetricTags): void;
  /** True when something listens: callers may skip computing expensive values otherwise. */
  readonly enabled: boolean;
  /** Flushes and closes sockets; idempotent. */
  close(): Promise<void>;
}

/** Metrics off: every call is a no-op (the default). */
export const noopMetrics: Metrics = {
  incr: () => undefined,
  gauge: () => undefined,
  timing: () => undefined,
  enabled: false,
  close: () => Promise.resolve(),
};

/** Sends every call to each sink (StatsD and Prometheus at once). */
export function fanOut(sinks: readonly Metrics[]): Metrics {
  const on = sinks.filter((s) => s.enabled);
  if (on.length === 0) return noopMetrics;
  if (on.length === 1) return on[0]!;
  return {
    incr: (n, by, t) => on.forEach((s) => s.incr(n, by, t)),
    gauge: (n, v, t) => on.forEach((s) => s.gauge(n, v, t)),
    timing: (n, ms, t) => on.forEach((s) => s.timing(n, ms, t)),
    enabled: true,
    close: async () => {
      await Promise.all(on.map((s) => s.close()));
    },
  };
}
