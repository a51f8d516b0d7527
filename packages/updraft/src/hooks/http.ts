// HTTP hook on fetch: Airflow's HttpHook base URL, auth and header rules, with retry on 5xx.
import { UpdraftError } from "../common/errors.js";
import type { Connection } from "../sdk/context.js";
import type { HttpHookImpl, HttpRequestOptions, HttpResponse } from "../sdk/hooks.js";
import { expectConnType } from "./connection-type.js";
import { abortableSleep as sleep } from "../common/abortable-sleep.js";

/** Extras that configure the request in Airflow's HttpHook instead of becoming headers. */
const NOT_HEADERS = new Set([
  "headers",
  "timeout",
  "allow_redirects",
  "proxies",
  "verify",
  "cert",
  "stream",
  "max_redirects",
  "trust_env",
  "check_response",
  "auth_type",
]);
const DEFAULT_TIMEOUT_MS = 30_000;
const QUERY_METHODS = new Set(["GET", "HEAD", "DELETE"]);

/**
 * The base URL as Airflow's HttpHook.get_conn builds it: a host with a scheme is taken whole;
 * otherwise the connection's `schema` is the scheme (default http, https for conn_type https).
 */
export function httpBaseUrl(conn: Connection): string {
  const host = conn.host ?? "";
  let base: string;
  if (host.includes("://")) base = host;
  else {
    const scheme =
      conn.schema !== null && conn.schema !== ""
        ? conn.schema
        : conn.conn_type === "https"
          ? "https"
          : "http";
    base = `${scheme}://${host}`;
  }
  if (conn.port !== null && !/:\d+(\/|$)/.test(base.replace(/^[a-z]+:\/\//i, ""))) {
    const u = new URL(base);
    u.port = String(conn.port);
    base = u.toString();
  }
  return base.replace(/\/+$/, "");
}

/**
 * Headers from the connection: its extra's `headers` object and its other plain extras, names
 * lower-cased so that a task's own header replaces the connection's whatever its case.
 */
export function connectionHeaders(conn: Connection): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(conn.extra)) {
    if (NOT_HEADERS.has(k) || v === null || typeof v === "object") continue;
    headers[k.toLowerCase()] = String(v);
  }
  const nested = conn.extra["headers"];
  if (nested !== null && typeof nested === "object" && !Array.isArray(nested))
    for (const [k, v] of Object.entries(nested)) headers[k.toLowerCase()] = String(v);
  if (conn.login !== null && conn.login !== "")
    headers["authorization"] =
      `Basic ${Buffer.from(`${conn.login}:${conn.password ?? ""}`).toString("base64")}`;
  return headers;
}

function joinUrl(base: string, endpoint: string): string {
  if (/^https?:\/\//.test(endpoint)) return endpoint;
  if (endpoint === "") return base;
  return `${base}/${endpoint.replace(/^\/+/, "")}`;
}

export function openHttp(conn: Connection): HttpHookImpl {
  expectConnType(conn, "HTTP hook", ["http", "https"]);
  const base = httpBaseUrl(conn);
  const fromConn = connectionHeaders(conn);
  const extraTimeout = Number(conn.extra["timeout"]);
  return {
    baseUrl: () => base,
    async run(endpoint: string, o: HttpRequestOptions = {}): Promise<HttpResponse> {
      const method = (o.method ?? "GET").toUpperCase();
      let url = joinUrl(base, endpoint);
      const headers: Record<string, string> = { ...fromConn };
      for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
      let body: string | undefined;
      if (o.data !== undefined && o.data !== null) {
        if (QUERY_METHODS.has(method) && typeof o.data === "object") {
          const u = new URL(url);
          for (const [k, v] of Object.entries(o.data as Record<string, unknown>))
            u.searchParams.append(k, String(v));
          url = u.toString();
        } else if (typeof o.data === "string") body = o.data;
        else {
          body = JSON.stringify(o.data);
          if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
            headers["content-type"] = "application/json";
        }
      }
      const timeoutMs =
        o.timeoutMs ??
        (Number.isFinite(extraTimeout) && extraTimeout > 0 ? extraTimeout * 1000 : DEFAULT_TIMEOUT_MS);
      const attempts = o.retry === undefined ? 1 : Math.max(1, o.retry.attempts ?? 3);
      const initial = o.retry?.initialDelayMs ?? 1000;
      const maxDelay = o.retry?.maxDelayMs ?? 30_000;
      for (let attempt = 1; ; attempt++) {
        const retryInMs = attempt < attempts ? Math.min(maxDelay, initial * 2 ** (attempt - 1)) : undefined;
        let res: Response;
        try {
          const signals = [AbortSignal.timeout(timeoutMs), ...(o.signal ? [o.signal] : [])];
          res = await fetch(url, {
            method,
            headers,
            ...(body === undefined ? {} : { body }),
            signal: AbortSignal.any(signals),
          });
        } catch (err) {
          if (o.signal?.aborted) throw err;
          const error =
            err instanceof Error
              ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}`
              : String(err);
          o.onAttempt?.({ attempt, status: null, error, ...(retryInMs === undefined ? {} : { retryInMs }) });
          if (retryInMs === undefined)
            throw new UpdraftError(
              "HTTP_REQUEST_FAILED",
              `${method} ${new URL(url).origin}${new URL(url).pathname} (connection "${conn.conn_id}") failed after ${attempt} attempt(s): ${error}.`,
              { cause: err },
            );
          await sleep(retryInMs, o.signal);
          continue;
        }
        const text = await res.text();
        const retry = res.status >= 500 && retryInMs !== undefined;
        o.onAttempt?.({ attempt, status: res.status, ...(retry ? { retryInMs } : {}) });
        if (retry) {
          await sleep(retryInMs, o.signal);
          continue;
        }
        const responseHeaders: Record<string, string> = {};
        res.headers.forEach((v, k) => (responseHeaders[k] = v));
        return {
          status: res.status,
          ok: res.ok,
          url,
          headers: responseHeaders,
          text,
          json<T>() {
            return JSON.parse(text) as T;
          },
        };
      }
    },
  };
}
