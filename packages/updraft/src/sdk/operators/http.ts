import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskContext } from "../context.js";
import { loadHooks, type HttpRequestOptions, type HttpResponse, type HttpRetryOptions } from "../hooks.js";
import type { TaskOptions } from "../options.js";
import { pick } from "./sql.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link HttpOperator}: Airflow's arguments in camelCase. */
export interface HttpOperatorOptions extends TaskOptions {
  taskId: string;
  /** The connection (conn_type `http`) with the base URL, auth and headers. Default `http_default`. */
  httpConnId?: string;
  /** Path after the base URL (templated). */
  endpoint?: string;
  /** Default `POST`, as Airflow. */
  method?: string;
  /** Body (JSON for an object) or, for GET/HEAD/DELETE, query parameters. Templated. */
  data?: unknown;
  /** Templated; over the connection's headers. */
  headers?: Record<string, string>;
  /** Returns false to fail the task (Airflow `response_check`). */
  responseCheck?: (response: HttpResponse, ctx: TaskContext) => boolean | Promise<boolean>;
  /** Turns the response into the XCom value (Airflow `response_filter`); default the body text. */
  responseFilter?: (response: HttpResponse, ctx: TaskContext) => unknown;
  /** Log the response body. Default false. */
  logResponse?: boolean;
  /** Retry a 5xx answer or a network error with backoff (default 3 attempts, 1 s then 2 s); false for none. */
  retryArgs?: HttpRetryOptions | false;
  /** Per attempt. Default 30 s (or the connection's extra `timeout`, in seconds). */
  timeoutMs?: number;
}

const FIELDS = [
  "httpConnId",
  "endpoint",
  "method",
  "data",
  "headers",
  "logResponse",
  "retryArgs",
  "timeoutMs",
] as const;

/**
 * @internal One request through the HTTP hook of `connId`, each attempt's status logged; a
 * non-2xx final answer fails with HTTP_REQUEST_FAILED unless `allowStatus` accepts it.
 */
export async function httpRequest(
  input: ExecuteInput,
  connId: string,
  endpoint: string,
  o: Omit<HttpRequestOptions, "onAttempt" | "signal">,
  allowStatus: (status: number) => boolean = () => false,
): Promise<HttpResponse> {
  const conn = await input.ctx.conn.get(connId);
  const hook = (await loadHooks()).openHttp(conn);
  const method = (o.method ?? "GET").toUpperCase();
  console.log(`Calling HTTP method ${method} ${endpoint === "" ? "/" : endpoint} on connection "${connId}"`);
  const res = await hook.run(endpoint, {
    ...o,
    signal: input.signal,
    onAttempt: ({ attempt, status, error, retryInMs }) =>
      console.log(
        `${method} ${endpoint}: ${status === null ? `failed (${error ?? "network error"})` : `status ${status}`}${retryInMs === undefined ? "" : `; attempt ${attempt} failed, retrying in ${(retryInMs / 1000).toFixed(1)} s`}`,
      ),
  });
  if (!res.ok && !allowStatus(res.status))
    throw new UpdraftError(
      "HTTP_REQUEST_FAILED",
      `${method} ${endpoint} (connection "${connId}") answered ${res.status}${res.text === "" ? "" : `: ${res.text.slice(0, 300)}`}`,
      { details: { status: res.status } },
    );
  return res;
}

/**
 * Calls an HTTP endpoint (Airflow's `HttpOperator`). The base URL and credentials come from the
 * connection; a 5xx answer is retried with backoff; a non-2xx answer or a `responseCheck` that
 * returns false fails the task; the body (or `responseFilter`'s value) is pushed as XCom.
 *
 * @example
 * ```ts
 * new HttpOperator({
 *   taskId: "refresh",
 *   httpConnId: "reporting_api",
 *   endpoint: "/reports/{{ ds }}/refresh",
 *   data: { full: true },
 *   responseCheck: (r) => r.json<{ status: string }>().status === "queued",
 * });
 * ```
 */
export class HttpOperator extends BaseOperator {
  readonly operatorName = "HttpOperator";
  static readonly mappableFields = ["endpoint", "data", "headers"] as const;

  /**
   * Starts a mapped HttpOperator: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * HttpOperator.partial({ taskId: "refresh", httpConnId: "api" }).expand({ endpoint: ["/a", "/b"] });
   * ```
   */
  static partial(
    options: Partial<HttpOperatorOptions> & { taskId: string },
  ): MappedBuilder<HttpOperatorOptions, "endpoint" | "data" | "headers"> {
    return mappedOperator(HttpOperator, options, HttpOperator.mappableFields);
  }
  readonly templateFields = ["endpoint", "data", "headers", "httpConnId"] as const;
  private readonly responseCheck: HttpOperatorOptions["responseCheck"];
  private readonly responseFilter: HttpOperatorOptions["responseFilter"];

  constructor(options: HttpOperatorOptions) {
    super(options, pick(options, FIELDS), [...FIELDS, "responseCheck", "responseFilter"]);
    this.responseCheck = options.responseCheck;
    this.responseFilter = options.responseFilter;
  }

  async execute(input: ExecuteInput): Promise<unknown> {
    const f = input.fields;
    const retry = f.retryArgs === false ? undefined : ((f.retryArgs as HttpRetryOptions | undefined) ?? {});
    const res = await httpRequest(
      input,
      typeof f.httpConnId === "string" ? f.httpConnId : "http_default",
      typeof f.endpoint === "string" ? f.endpoint : "",
      {
        method: typeof f.method === "string" ? f.method : "POST",
        data: f.data,
        ...(f.headers === undefined ? {} : { headers: f.headers as Record<string, string> }),
        ...(retry === undefined ? {} : { retry }),
        ...(typeof f.timeoutMs === "number" ? { timeoutMs: f.timeoutMs } : {}),
      },
    );
    if (f.logResponse === true) console.log(res.text);
    if (this.responseCheck !== undefined && !(await this.responseCheck(res, input.ctx)))
      throw new UpdraftError(
        "HTTP_RESPONSE_CHECK_FAILED",
        `Response check returned false (status ${res.status}).`,
      );
    const value = this.responseFilter === undefined ? res.text : await this.responseFilter(res, input.ctx);
    if (this.options.doXcomPush !== false && value !== undefined)
      (await loadHooks()).checkXcomSize(
        value,
        `The response of HttpOperator "${this.taskId}"`,
        "Use responseFilter to keep what downstream tasks need, or set doXcomPush: false.",
      );
    return value;
  }
}
