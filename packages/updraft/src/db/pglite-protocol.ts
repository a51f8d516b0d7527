/**
 * Messages between the main thread and the worker thread that owns the embedded PGlite database
 * (see pglite-thread.ts and pglite-worker.ts). Everything crosses by structured clone, which keeps
 * the values PGlite's parsers produce (Date, number, bigint, Uint8Array, parsed JSON) as they are.
 */

/** What the worker opens: a data directory on disk, a memory database, or one loaded from a dump. */
export interface PGliteWorkerData {
  /** PGDATA directory; unset for a memory database. */
  readonly dataDir?: string;
  /**
   * A tar dump (`dumpDataDir`) to start from: the memory database, or a `dataDir` that holds no
   * database yet. Transferred, not copied.
   */
  readonly loadDataDir?: Uint8Array;
}

export type PGliteRequest =
  | {
      readonly op: "query";
      readonly id: number;
      readonly sql: string;
      readonly params: readonly unknown[];
      /**
       * Statements without parameters (BEGIN, SAVEPOINT…) run just before `sql`, sent along to save
       * a round trip. If one fails, `sql` does not run and the reply carries that failure.
       */
      readonly before?: readonly string[];
    }
  /** Statements without parameters, in order, on the simple protocol (one call into PGlite, not five). */
  | { readonly op: "exec"; readonly id: number; readonly statements: readonly string[] }
  | { readonly op: "listen"; readonly id: number; readonly channel: string }
  | { readonly op: "unlisten"; readonly id: number; readonly listener: number }
  | { readonly op: "dump"; readonly id: number }
  | { readonly op: "close"; readonly id: number };

export interface QueryReply {
  readonly rows: unknown[];
  readonly affectedRows: number | undefined;
}

export type PGliteReply =
  /** The database is open: sent once, first. */
  | { readonly kind: "ready" }
  /** PGlite.create failed; the worker ends after this. */
  | { readonly kind: "open-failed"; readonly error: WireError }
  | { readonly kind: "ok"; readonly id: number; readonly result: unknown }
  | { readonly kind: "error"; readonly id: number; readonly error: WireError }
  /** A NOTIFY for the listener the worker numbered `listener` in its reply to `listen`. */
  | { readonly kind: "notification"; readonly listener: number; readonly payload: string };

/** An error as it crosses threads: structured clone would drop `code` and the other fields. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  /** String and number properties: PostgreSQL's `code`, `constraint`, `detail`, `severity`… */
  readonly fields: Readonly<Record<string, string | number>>;
}

export function toWireError(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: "Error", message: String(err), fields: {} };
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(err)) {
    if (typeof value === "string" || typeof value === "number") fields[key] = value;
  }
  return { name: err.name, message: err.message, fields };
}

/** The error a caller sees: the worker's message and fields (the dialect gives it the caller's stack). */
export function fromWireError(wire: WireError): Error {
  const err = Object.assign(new Error(wire.message), wire.fields);
  Object.defineProperty(err, "name", { value: wire.name, configurable: true, writable: true });
  return err;
}
