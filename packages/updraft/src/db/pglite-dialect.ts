import {
  type CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { QueryReply } from "./pglite-protocol.js";
import type { PGliteThread } from "./pglite-thread.js";

/**
 * A FIFO lock. PGlite has a single session, so a transaction must own it from BEGIN to COMMIT:
 * a query from elsewhere in between would silently join (or be rolled back with) the transaction.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Waits for the lock and returns the function that releases it. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const previous = this.#tail;
    this.#tail = previous.then(() => next);
    await previous;
    return release;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * `err` (made on the worker's reply) with the stack of the code that ran the statement. Called in
 * the catch block of an async function, so V8's async stack trace reaches the caller, as when
 * PGlite threw in this thread; capturing a stack for every query instead would cost each one.
 */
function fromHere(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const here = new Error().stack ?? "";
  const frames = here.indexOf("\n", here.indexOf("\n") + 1);
  if (frames >= 0) err.stack = `${err.name}: ${err.message}${here.slice(frames)}`;
  return err;
}

const WRITES = /^\s*(insert|update|delete|merge)\b/i;

class PGliteConnection implements DatabaseConnection {
  /**
   * The BEGIN of a transaction that has run nothing yet. It travels with the transaction's first
   * statement, saving a round trip to the worker; a transaction that runs nothing sends nothing.
   */
  pendingBegin: string | undefined;

  constructor(private readonly thread: PGliteThread) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const begin = this.takeBegin();
    let result: QueryReply;
    try {
      result = await this.thread.query(
        compiled.sql,
        compiled.parameters,
        begin === undefined ? undefined : [begin],
      );
    } catch (err) {
      throw fromHere(err);
    }
    return {
      rows: result.rows as R[],
      ...(WRITES.test(compiled.sql) && result.affectedRows !== undefined
        ? { numAffectedRows: BigInt(result.affectedRows) }
        : {}),
    };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(compiled);
  }

  /** Runs a transaction-control statement (after the pending BEGIN, if any). */
  async control(statement: string): Promise<void> {
    const begin = this.takeBegin();
    try {
      await this.thread.exec(begin === undefined ? [statement] : [begin, statement]);
    } catch (err) {
      throw fromHere(err);
    }
  }

  takeBegin(): string | undefined {
    const begin = this.pendingBegin;
    this.pendingBegin = undefined;
    return begin;
  }
}

class PGliteDriver implements Driver {
  readonly #connection: PGliteConnection;
  #release: (() => void) | undefined;

  constructor(
    thread: PGliteThread,
    private readonly mutex: Mutex,
  ) {
    this.#connection = new PGliteConnection(thread);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.mutex.lock();
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    this.#connection.pendingBegin = undefined;
    release?.();
  }

  async beginTransaction(_connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = "begin";
    if (settings.isolationLevel !== undefined) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode !== undefined) statement += ` ${settings.accessMode}`;
    this.#connection.pendingBegin = statement;
  }

  async commitTransaction(): Promise<void> {
    // Nothing ran since BEGIN: there is nothing to commit, and BEGIN was never sent.
    if (this.#connection.takeBegin() === undefined) await this.#connection.control("commit");
  }

  async rollbackTransaction(): Promise<void> {
    if (this.#connection.takeBegin() === undefined) await this.#connection.control("rollback");
  }

  async savepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    await this.#connection.control(`savepoint ${quoteIdent(name)}`);
  }

  async rollbackToSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    await this.#connection.control(`rollback to savepoint ${quoteIdent(name)}`);
  }

  async releaseSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    await this.#connection.control(`release savepoint ${quoteIdent(name)}`);
  }

  // The worker thread belongs to the Database handle, which closes it after Kysely.
  async destroy(): Promise<void> {}
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Kysely dialect over the PGlite database of one worker thread, reusing Kysely's PostgreSQL
 * adapter, compiler and introspector. All queries, transactions and LISTEN calls are serialized
 * by `mutex`.
 */
export class PGliteDialect implements Dialect {
  constructor(
    private readonly thread: PGliteThread,
    readonly mutex: Mutex = new Mutex(),
  ) {}

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.thread, this.mutex);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
