// The one interface components report run and try ends through, for OpenTelemetry traces. Like
// metrics, reporting never awaits and never throws into the work it describes.

/** A try that ended: one span, from its start to its end. */
export interface TrySpan {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  /** The state the try ended in (success, failed, up_for_retry, skipped, …). */
  state: string;
  /** When the try started, when known (a try reaped before it started has none). */
  start: Date | null;
  end: Date;
}

/** A DAG run that ended: the root span of its trace. */
export interface RunSpan {
  dag_id: string;
  run_id: string;
  run_type?: string;
  state: string;
  start: Date | null;
  end: Date;
}

export interface Traces {
  tryEnded(span: TrySpan): void;
  runEnded(span: RunSpan): void;
  readonly enabled: boolean;
  /** Exports what is buffered and stops; idempotent. */
  close(): Promise<void>;
}

/** Traces off (the default): every call is a no-op. */
export const noopTraces: Traces = {
  tryEnded: () => undefined,
  runEnded: () => undefined,
  enabled: false,
  close: () => Promise.resolve(),
};
