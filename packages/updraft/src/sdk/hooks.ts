// Typed hooks on connections (Airflow's PostgresHook, HttpHook), reachable as `ctx.hooks` from
// TaskFlow code and used by the operators. The SDK holds only the types and a lazy shell: the
// code that speaks to the systems (and `pg`) lives in src/hooks/ and is loaded with
// `await import()` on first use, so a DAG file that never touches a database loads none of it.
import type * as HookModuleNs from "../hooks/index.js";
import type { ConnectionAccessor } from "./context.js";
import { lazyGcsHook, lazyS3Hook, type GcsHook, type S3Hook } from "./storage-hooks.js";

/** A query's result rows: objects keyed by column (`rowMode: "object"`) or arrays of values. */
export type Row = Record<string, unknown>;

/** Options of {@link PostgresHook.run}: Airflow's `DbApiHook.run` arguments in camelCase. */
export interface SqlRunOptions {
  /** Positional parameters `$1`, `$2`… of each statement. */
  parameters?: readonly unknown[];
  /**
   * Each statement commits on its own (Airflow `autocommit`). Default false: all statements run
   * in one transaction, committed at the end and rolled back on the first error.
   */
  autocommit?: boolean;
  /** Split a string holding several statements at its `;` (outside quotes and comments). Default false. */
  splitStatements?: boolean;
  /** Return only the last statement's rows (Airflow `return_last`). Default true. */
  returnLast?: boolean;
  /** Rows as arrays of values (Airflow's tuples, the default) or as objects keyed by column. */
  rowMode?: "array" | "object";
}

/** What one statement returned (rows are arrays or objects by `rowMode`). */
export type StatementRows = unknown[];

/**
 * A PostgreSQL connection of conn_type `postgres` (Airflow's PostgresHook), opened on the first
 * query and closed when the try ends (or by {@link PostgresHook.close}).
 *
 * @example
 * ```ts
 * task("count", async (ctx) => {
 *   const [row] = await ctx.hooks.postgres("warehouse").query<{ n: number }>(
 *     "select count(*)::int as n from sales where day = $1", [ctx.ds]);
 *   return row?.n ?? 0;
 * });
 * ```
 */
export interface PostgresHook {
  readonly connId: string;
  /** Runs one statement with positional parameters and returns its rows as objects. */
  query<R extends Row = Row>(sql: string, parameters?: readonly unknown[]): Promise<R[]>;
  /** The first row of a query, or undefined (Airflow `get_first`). */
  getFirst<R extends Row = Row>(sql: string, parameters?: readonly unknown[]): Promise<R | undefined>;
  /** Runs statements as Airflow's `DbApiHook.run`: a list per statement, or the last one's rows. */
  run(sql: string | readonly string[], options?: SqlRunOptions): Promise<StatementRows | StatementRows[]>;
  /** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: (tx: Pick<PostgresHook, "query" | "getFirst">) => Promise<T>): Promise<T>;
  /** Closes the connection now (it is closed at the end of the try anyway). */
  close(): Promise<void>;
}

/** Options of one HTTP request through an {@link HttpHook}. */
export interface HttpRequestOptions {
  /** Default `GET`. */
  method?: string;
  /**
   * Body or query: for GET, HEAD and DELETE an object becomes query parameters; for the others an
   * object or array is sent as JSON, a string as it is.
   */
  data?: unknown;
  /** Headers, over the connection's (its extra's `headers`, or its other plain extras). */
  headers?: Record<string, string>;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
  /** Retries on a 5xx answer or a network error, with exponential backoff. Default: none. */
  retry?: HttpRetryOptions;
  signal?: AbortSignal;
  /** Called for each attempt's status, for the task log. */
  onAttempt?: (info: { attempt: number; status: number | null; error?: string; retryInMs?: number }) => void;
}

/** Retry on 5xx and network errors (Airflow's `retry_args`, tenacity's exponential wait). */
export interface HttpRetryOptions {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number;
  /** Wait before the second attempt; doubled each time. Default 1 s. */
  initialDelayMs?: number;
  /** Upper bound of a wait. Default 30 s. */
  maxDelayMs?: number;
}

/** An HTTP answer, its body read. */
export interface HttpResponse {
  status: number;
  ok: boolean;
  url: string;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON (throws on a body that is not JSON). */
  json<T = unknown>(): T;
}

/**
 * An HTTP service of conn_type `http` (Airflow's HttpHook): base URL from the connection (host,
 * schema as the URL scheme, port), login/password as Basic auth, headers from the extras.
 *
 * @example
 * ```ts
 * task("ping", async (ctx) => (await ctx.hooks.http("api").run("/health")).status);
 * ```
 */
export interface HttpHook {
  readonly connId: string;
  /** Sends one request to `endpoint` (appended to the connection's base URL). */
  run(endpoint: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  /** The connection's base URL, e.g. `https://api.example.com:8443`. */
  baseUrl(): Promise<string>;
}

/** The hooks of a running task: `ctx.hooks.postgres("warehouse")`, `ctx.hooks.http("api")`. */
export interface HookAccessor {
  /** A PostgreSQL hook on connection `connId` (default `postgres_default`). */
  postgres(connId?: string): PostgresHook;
  /** An HTTP hook on connection `connId` (default `http_default`). */
  http(connId?: string): HttpHook;
  /** An S3 hook on connection `connId` (conn_type `aws`, default `aws_default`). */
  s3(connId?: string): S3Hook;
  /** A Google Cloud Storage hook on connection `connId` (conn_type `google_cloud_platform`, default `google_cloud_default`). */
  gcs(connId?: string): GcsHook;
}

/** @internal */
export type PostgresSession = Omit<PostgresHook, "connId">;
/** @internal */
export type HttpHookImpl = Omit<HttpHook, "connId" | "baseUrl"> & { baseUrl(): string };

type HookModule = typeof HookModuleNs;
let implementations: Promise<HookModule> | null = null;
/** @internal Loads src/hooks/ once per process. */
export function loadHooks(): Promise<HookModule> {
  implementations ??= import("../hooks/index.js");
  return implementations;
}

const OPEN = Symbol.for("updraft.hooks.open");
type Closable = { [OPEN]: Set<{ close(): Promise<void> }> };

/** @internal Builds `ctx.hooks` on a context's connection accessor. */
export function createHooks(conn: ConnectionAccessor): HookAccessor {
  const open = new Set<{ close(): Promise<void> }>();
  const accessor: HookAccessor & Closable = {
    [OPEN]: open,
    postgres(connId = "postgres_default") {
      let session: Promise<PostgresSession> | null = null;
      const get = () =>
        (session ??= (async () => {
          const [c, impl] = await Promise.all([conn.get(connId), loadHooks()]);
          const s = impl.openPostgres(c);
          open.add(s);
          return s;
        })());
      return {
        connId,
        query: async (sql, parameters) => (await get()).query(sql, parameters),
        getFirst: async (sql, parameters) => (await get()).getFirst(sql, parameters),
        run: async (sql, options) => (await get()).run(sql, options),
        transaction: async (fn) => (await get()).transaction(fn),
        close: async () => {
          if (session === null) return;
          const s = await session;
          session = null;
          open.delete(s);
          await s.close();
        },
      };
    },
    http(connId = "http_default") {
      let hook: Promise<HttpHookImpl> | null = null;
      const get = () =>
        (hook ??= (async () => {
          const [c, impl] = await Promise.all([conn.get(connId), loadHooks()]);
          return impl.openHttp(c);
        })());
      return {
        connId,
        run: async (endpoint, options) => (await get()).run(endpoint, options),
        baseUrl: async () => (await get()).baseUrl(),
      };
    },
    s3: (connId = "aws_default") => lazyS3Hook(conn, open, connId),
    gcs: (connId = "google_cloud_default") => lazyGcsHook(conn, open, connId),
  };
  return accessor;
}

/** @internal Closes what the try's hooks opened (the runner calls it when the try ends). */
export async function closeHooks(hooks: HookAccessor | undefined): Promise<void> {
  const open = (hooks as Partial<Closable> | undefined)?.[OPEN];
  if (open === undefined) return;
  const all = [...open];
  open.clear();
  await Promise.allSettled(all.map((s) => s.close()));
}
