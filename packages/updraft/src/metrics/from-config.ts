// Builds the process's Metrics from the `metrics` settings. One per process, created at start-up
// by the command that starts the components and passed to each through its options.
import type { UpdraftConfig } from "../config/index.js";
import { fanOut, noopMetrics, type Metrics } from "./metrics.js";
import { prometheusMetrics, type PrometheusMetrics } from "./prometheus.js";
import { statsdMetrics } from "./statsd.js";

export interface ProcessMetrics {
  /** Where components emit. */
  readonly metrics: Metrics;
  /** The registry GET /metrics serves, or null when metrics.prometheus_on is off. */
  readonly prometheus: PrometheusMetrics | null;
}

export function metricsFromConfig(
  config: Pick<UpdraftConfig, "metrics">,
  onError?: (err: Error) => void,
): ProcessMetrics {
  const m = config.metrics;
  const prometheus = m.prometheus_on ? prometheusMetrics({ prefix: m.statsd_prefix }) : null;
  const sinks: Metrics[] = [];
  if (m.statsd_on) {
    sinks.push(
      statsdMetrics({
        host: m.statsd_host,
        port: m.statsd_port,
        prefix: m.statsd_prefix,
        datadog: m.statsd_datadog_enabled,
        globalTags: m.statsd_datadog_tags
          .split(",")
          .map((t) => t.trim())
          .filter((t) => t !== ""),
        ...(onError !== undefined ? { onError } : {}),
      }),
    );
  }
  if (prometheus !== null) sinks.push(prometheus);
  return { metrics: sinks.length === 0 ? noopMetrics : fanOut(sinks), prometheus };
}
