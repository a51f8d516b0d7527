export { noopTraces, type Traces, type TrySpan, type RunSpan } from "./traces.js";
export {
  otelTraces,
  otelUrlFromConfig,
  runTraceIds,
  tracesFromConfig,
  type OtelTracesOptions,
} from "./otel.js";
