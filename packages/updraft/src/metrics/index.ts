export { fanOut, noopMetrics, type Metrics, type MetricTags } from "./metrics.js";
export { named } from "./names.js";
export { statsdMetrics, type StatsdOptions } from "./statsd.js";
export { prometheusMetrics, type PrometheusMetrics } from "./prometheus.js";
export { metricsFromConfig, type ProcessMetrics } from "./from-config.js";
