// StatsD sink (hot-shots over UDP): Airflow's names with the variable parts in the name, so the
// tutorial's statsd_exporter and any dashboard built for Airflow read them unchanged. With
// DogStatsD on, the same values also go as tags.
import StatsD from "hot-shots";
import type { Metrics, MetricTags } from "./metrics.js";
import { named } from "./names.js";

export interface StatsdOptions {
  host: string;
  port: number;
  prefix: string;
  /** Send DogStatsD tags (`|#dag_id:x`) besides the dotted names. */
  datadog: boolean;
  /** Tags added to every metric (metrics.statsd_datadog_tags), DogStatsD only. */
  globalTags?: readonly string[];
  /** Called on a send error; never throws into the caller. */
  onError?: (err: Error) => void;
}

export function statsdMetrics(o: StatsdOptions): Metrics {
  const client = new StatsD({
    host: o.host,
    port: o.port,
    prefix: o.prefix === "" ? "" : `${o.prefix}.`,
    protocol: "udp",
    // Lines are batched and flushed by a timer: one datagram per tick, not per call.
    maxBufferSize: 1400,
    bufferFlushInterval: 100,
    globalTags: o.datadog ? [...(o.globalTags ?? [])] : [],
    errorHandler: (err) => o.onError?.(err),
  });
  // The flush timer must not keep a CLI process alive.
  (client as unknown as { socket?: { unref?: () => void } }).socket?.unref?.();
  const tagsOf = (t: MetricTags | undefined): string[] | undefined =>
    o.datadog && t !== undefined ? Object.entries(t).map(([k, v]) => `${k}:${v}`) : undefined;
  let closed = false;
  return {
    incr(name, by = 1, tags) {
      client.increment(named(name, tags).statsd, by, tagsOf(tags));
    },
    gauge(name, value, tags) {
      client.gauge(named(name, tags).statsd, value, tagsOf(tags));
    },
    timing(name, ms, tags) {
      client.timing(named(name, tags).statsd, Math.round(ms * 1000) / 1000, tagsOf(tags));
    },
    enabled: true,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        client.close(() => resolve());
      }),
  };
}
