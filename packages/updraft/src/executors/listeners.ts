import type { ExecutorEvent, ExecutorListener, ExecutorLogger } from "./executor.js";

/**
 * An executor's subscribers: a listener that throws is logged and never stops the others (nor the
 * executor that emits from its own callbacks).
 */
export class ExecutorListeners {
  private readonly listeners = new Set<ExecutorListener>();

  constructor(private readonly logger: ExecutorLogger) {}

  add(listener: ExecutorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ExecutorEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.error(
          { error: err instanceof Error ? err.message : String(err) },
          "executor event listener threw",
        );
      }
    }
  }
}
