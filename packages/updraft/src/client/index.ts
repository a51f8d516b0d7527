// The typed client of the REST API, for the CLI's remote calls and the web UI: openapi-fetch over
// the types generated from the server's own OpenAPI document (api-types.ts), so that a renamed
// field or route breaks the caller's type check instead of its users. It imports nothing from the
// rest of Updraft and runs in Node and in browsers.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./api-types.js";

export type { components, operations, paths } from "./api-types.js";

/** The header a cookie session sends its CSRF token in, on requests that change state. */
export const CSRF_HEADER = "x-csrf-token";
/** The cookie the server puts the CSRF token of a login session in (readable by the page). */
export const CSRF_COOKIE = "updraft_csrf";

export type UpdraftClient = Client<paths>;

export interface UpdraftClientOptions {
  /** The server's base URL, e.g. `http://localhost:8080` (no `/api/v1`); "" in a page it serves. */
  baseUrl: string;
  /** An API token (`Authorization: Bearer`), for scripts and the CLI. */
  token?: string;
  /** A user name and password (HTTP Basic). */
  basic?: { username: string; password: string };
  /**
   * The CSRF token of a cookie session (the UI): read before each request that changes state,
   * since a new login replaces it.
   */
  csrfToken?: () => string | null | undefined;
  fetch?: typeof globalThis.fetch;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function base64(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/**
 * A client whose every path, parameter, body and reply is typed from the API's document.
 *
 * @example
 * ```ts
 * const api = createUpdraftClient({ baseUrl: "http://localhost:8080", token });
 * const { data, error } = await api.GET("/api/v1/dags/{dag_id}", { params: { path: { dag_id: "etl" } } });
 * ```
 */
export function createUpdraftClient(options: UpdraftClientOptions): UpdraftClient {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  else if (options.basic !== undefined)
    headers["authorization"] = `Basic ${base64(`${options.basic.username}:${options.basic.password}`)}`;
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const { csrfToken } = options;
  if (csrfToken !== undefined) {
    const csrf: Middleware = {
      onRequest({ request }) {
        const token = csrfToken();
        if (!SAFE_METHODS.has(request.method) && token) request.headers.set(CSRF_HEADER, token);
        return request;
      },
    };
    client.use(csrf);
  }
  return client;
}
