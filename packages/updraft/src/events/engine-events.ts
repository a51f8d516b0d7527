import { randomUUID } from "node:crypto";
import type { Database } from "../db/index.js";

/**
 * What happened that a scheduler may want to act on at once. Payloads are small: ids only; the
 * receiver reads the rows it needs.
 */
export type EngineEvent =
  | {
      type: "ti_finished";
      dag_id: string;
      run_id: string;
      task_id: string;
      map_index: number;
      state: string;
      /** Task instances the finish scheduled that wait for the scheduler to queue them. */
      scheduled: number;
      /** The run needs the scheduler's evaluation: it may be over, a retry waits, a decision cascades. */
      run_check: boolean;
      /** Downstream tasks that wait on other tasks too (a join): the scheduler decides them. */
      evaluate: string[];
    }
  | { type: "ti_state_changed"; dag_id: string; run_id: string }
  | { type: "dag_run_created"; dag_id: string; run_id: string }
  | { type: "dag_changed"; dag_id: string }
  | { type: "executor_slot_free" }
  /** A task deferred on a new trigger: triggerers claim it now rather than at their next poll. */
  | { type: "trigger_created"; trigger_id: number }
  /** A sensor's try is up_for_reschedule until `at` (ISO): the scheduler wakes for its run then. */
  | { type: "ti_rescheduled"; dag_id: string; run_id: string; at: string };

const CHANNEL = "updraft_events";

/**
 * Wakes components when something happens: listeners in this process hear an event at once (no
 * database round trip), other processes through PostgreSQL NOTIFY. Events are hints: a lost one
 * only delays work until the periodic loop, so nothing depends on delivery.
 */
export class EngineEvents {
  private readonly origin = randomUUID();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(private readonly database: Database | null) {}

  /** Starts hearing other processes' events (PostgreSQL only; PGlite is single-process). */
  async start(): Promise<void> {
    if (!this.database || this.database.dialect !== "postgres" || this.unlisten) return;
    this.unlisten = await this.database.listen(CHANNEL, (payload) => {
      let parsed: { origin?: string; event?: EngineEvent };
      try {
        parsed = JSON.parse(payload) as typeof parsed;
      } catch {
        return;
      }
      if (parsed.origin !== this.origin && parsed.event) this.deliver(parsed.event);
    });
  }

  on(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Where a statement may send this process's NOTIFY itself (`pg_notify(channel, payload)` with
   * payload `{"origin": origin, "event": …}`), saving the round trip of a separate NOTIFY; null when
   * events do not cross processes (PGlite, no database). The caller then calls {@link emitLocal}.
   */
  notifyTarget(): { channel: string; origin: string } | null {
    return this.database?.dialect === "postgres" ? { channel: CHANNEL, origin: this.origin } : null;
  }

  /** Tells this process's listeners only (the NOTIFY was sent by the statement that made the change). */
  emitLocal(event: EngineEvent): void {
    this.deliver(event);
  }

  /** Tells local listeners now and, on PostgreSQL, other processes (fire and forget). */
  emit(event: EngineEvent): void {
    this.deliver(event);
    if (this.database?.dialect === "postgres") {
      this.database.notify(CHANNEL, JSON.stringify({ origin: this.origin, event })).catch(() => {
        // A lost wake-up only costs latency: the periodic loop catches up.
      });
    }
  }

  async stop(): Promise<void> {
    const u = this.unlisten;
    this.unlisten = null;
    if (u) await u();
    this.listeners.clear();
  }

  private deliver(event: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not stop other listeners.
      }
    }
  }
}
