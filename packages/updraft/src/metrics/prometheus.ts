// Prometheus sink (prom-client): the names the tutorial's statsd_exporter would give the StatsD
// lines (monitoring/statsd-mapping.yml): `<prefix>_<name with dots as underscores>`, variable
// parts as labels; counters as counters, gauges as gauges, timers as summaries in seconds (the
// exporter's default observer for timers). One registry per process, scraped at GET /metrics.
import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from "prom-client";
import type { Metrics, MetricTags } from "./metrics.js";
import { named } from "./names.js";

export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
}

type Family = Counter | Gauge | Summary;

export function prometheusMetrics(o: { prefix: string; defaultMetrics?: boolean }): PrometheusMetrics {
  const registry = new Registry();
  if (o.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const prefix = o.prefix === "" ? "" : `${o.prefix.replace(/[^a-zA-Z0-9_]/g, "_")}_`;
  const families = new Map<string, { f: Family; labels: readonly string[] }>();

  function family<F extends Family>(
    kind: "counter" | "gauge" | "summary",
    name: string,
    tags: MetricTags | undefined,
  ): { f: F; values: Record<string, string> } {
    const n = named(name, tags);
    const full = prefix + n.base.replace(/[^a-zA-Z0-9_]/g, "_");
    let e = families.get(full);
    if (e === undefined) {
      // The first emission fixes the label names; every call site of a name passes the same ones.
      const labels = Object.keys(n.labels).sort();
      const cfg = {
        name: full,
        help: `Updraft metric ${n.base} (Airflow name ${name})`,
        labelNames: labels,
        registers: [registry],
      };
      const f =
        kind === "counter"
          ? new Counter(cfg)
          : kind === "gauge"
            ? new Gauge(cfg)
            : new Summary({ ...cfg, percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5 });
      e = { f, labels };
      families.set(full, e);
    }
    const values: Record<string, string> = {};
    for (const l of e.labels) values[l] = n.labels[l] ?? "";
    return { f: e.f as F, values };
  }

  return {
    registry,
    incr(name, by = 1, tags) {
      const { f, values } = family<Counter>("counter", name, tags);
      f.inc(values, by);
    },
    gauge(name, value, tags) {
      const { f, values } = family<Gauge>("gauge", name, tags);
      f.set(values, value);
    },
    timing(name, ms, tags) {
      const { f, values } = family<Summary>("summary", name, tags);
      f.observe(values, ms / 1000);
    },
    enabled: true,
    close: () => Promise.resolve(),
  };
}
