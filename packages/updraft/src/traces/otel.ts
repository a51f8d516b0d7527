// OpenTelemetry traces over OTLP/HTTP (JSON), as Airflow's [traces] section: a DAG run is a trace
// whose root span is the run, each try a child span with its state. Spans are made when the run or
// try has ended (from the rows that end them), so nothing is kept open across processes: the trace
// and run span ids are derived from (dag_id, run_id), and the API server that records a try's end
// and the scheduler that records the run's end put their spans in the same trace without sharing
// state. A BatchSpanProcessor queues spans and exports them off the hot path.
import { createHash, randomBytes } from "node:crypto";
import { context, trace, TraceFlags, type Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator } from "@opentelemetry/sdk-trace-base";
import type { UpdraftConfig } from "../config/index.js";
import type { RunSpan, Traces, TrySpan } from "./traces.js";

/** The trace id and run span id of a DAG run, the same in every process. */
export function runTraceIds(dagId: string, runId: string): { traceId: string; spanId: string } {
  const h = createHash("sha256").update(`updraft-run\0${dagId}\0${runId}`).digest("hex");
  return { traceId: h.slice(0, 32), spanId: h.slice(32, 48) };
}

/** Random ids, except for the one span being started with ids of its own (a run's root span). */
class RunIdGenerator implements IdGenerator {
  forced: { traceId: string; spanId: string } | null = null;
  generateTraceId(): string {
    return this.forced?.traceId ?? randomBytes(16).toString("hex");
  }
  generateSpanId(): string {
    return this.forced?.spanId ?? randomBytes(8).toString("hex");
  }
}

export interface OtelTracesOptions {
  /** The OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. */
  url: string;
  serviceName: string;
  /** Export every this many ms (batch processor). Default 1000. */
  exportIntervalMs?: number;
}

/** The endpoint the [traces] settings name, or null when traces are off. */
export function otelUrlFromConfig(config: Pick<UpdraftConfig, "traces">): string | null {
  const t = config.traces;
  if (!t.otel_on) return null;
  if (t.otel_endpoint !== "") return t.otel_endpoint;
  return `${t.otel_ssl_active ? "https" : "http"}://${t.otel_host}:${t.otel_port}/v1/traces`;
}

export function otelTraces(o: OtelTracesOptions): Traces {
  const ids = new RunIdGenerator();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": o.serviceName }),
    idGenerator: ids,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: o.url }), {
        scheduledDelayMillis: o.exportIntervalMs ?? 1000,
      }),
    ],
  });
  const tracer: Tracer = provider.getTracer("updraft");
  let closed = false;
  const guard = (f: () => void) => {
    if (closed) return;
    try {
      f();
    } catch {
      // A span that cannot be made must not fail the try or run it describes.
    }
  };
  return {
    enabled: true,
    tryEnded: (s: TrySpan) =>
      guard(() => {
        const run = runTraceIds(s.dag_id, s.run_id);
        const parent = trace.setSpanContext(context.active(), {
          traceId: run.traceId,
          spanId: run.spanId,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        });
        const span = tracer.startSpan(
          s.task_id,
          {
            startTime: s.start ?? s.end,
            attributes: {
              dag_id: s.dag_id,
              task_id: s.task_id,
              run_id: s.run_id,
              map_index: s.map_index,
              try_number: s.try_number,
              state: s.state,
            },
          },
          parent,
        );
        span.setStatus({ code: s.state === "failed" || s.state === "up_for_retry" ? 2 : 1 });
        span.end(s.end);
      }),
    runEnded: (s: RunSpan) =>
      guard(() => {
        ids.forced = runTraceIds(s.dag_id, s.run_id);
        try {
          const span = tracer.startSpan(s.dag_id, {
            root: true,
            startTime: s.start ?? s.end,
            attributes: {
              dag_id: s.dag_id,
              run_id: s.run_id,
              state: s.state,
              ...(s.run_type === undefined ? {} : { run_type: s.run_type }),
            },
          });
          span.setStatus({ code: s.state === "failed" ? 2 : 1 });
          span.end(s.end);
        } finally {
          ids.forced = null;
        }
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/** The process's Traces from the [traces] settings: OTLP/HTTP when otel_on, else a no-op. */
export function tracesFromConfig(config: Pick<UpdraftConfig, "traces">, noop: Traces): Traces {
  const url = otelUrlFromConfig(config);
  return url === null ? noop : otelTraces({ url, serviceName: config.traces.otel_service });
}
