import type { ExecuteInput } from "../base-operator.js";
import type { TaskContext } from "../context.js";
import type { HttpResponse } from "../hooks.js";
import { httpRequest } from "../operators/http.js";
import { pick } from "../operators/sql.js";
import { triggers, type TriggerSpec } from "../triggers.js";
import { BaseSensorOperator, type BaseSensorOptions } from "./base-sensor.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link HttpSensor}. */
export interface HttpSensorOptions extends BaseSensorOptions {
  /** Default `http_default`. */
  httpConnId?: string;
  /** Templated. */
  endpoint: string;
  /** Default `GET`. */
  method?: string;
  /** Query parameters (GET) or body (templated), Airflow `request_params`. */
  requestParams?: unknown;
  /** Templated. */
  headers?: Record<string, string>;
  /** Done when it returns true; without it, any 2xx answer is done. */
  responseCheck?: (response: HttpResponse, ctx: TaskContext) => boolean | Promise<boolean>;
  /** Statuses that mean "not yet" instead of failing the task. Default `["404"]`, as Airflow. */
  responseErrorCodesAllowlist?: string[];
}

const FIELDS = [
  "httpConnId",
  "endpoint",
  "method",
  "requestParams",
  "headers",
  "responseErrorCodesAllowlist",
] as const;

/**
 * Pokes an HTTP endpoint until it answers 2xx (and `responseCheck` agrees), as Airflow's
 * `HttpSensor`. A 404 means "not yet"; other error statuses fail the task.
 *
 * @example
 * ```ts
 * new HttpSensor({ taskId: "wait_export", httpConnId: "vendor", endpoint: "/exports/{{ ds }}", pokeInterval: "5m", timeout: "6h" });
 * ```
 */
export class HttpSensor extends BaseSensorOperator {
  readonly operatorName = "HttpSensor";
  static readonly mappableFields = ["endpoint", "requestParams"] as const;

  /**
   * Starts a mapped HttpSensor: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * HttpSensor.partial({ taskId: "wait", httpConnId: "api" }).expand({ endpoint: ["/a", "/b"] });
   * ```
   */
  static partial(
    options: Partial<HttpSensorOptions> & { taskId: string },
  ): MappedBuilder<HttpSensorOptions, "endpoint" | "requestParams"> {
    return mappedOperator(HttpSensor, options, HttpSensor.mappableFields);
  }
  readonly templateFields = ["endpoint", "requestParams", "headers", "httpConnId"] as const;
  private readonly responseCheck: HttpSensorOptions["responseCheck"];

  constructor(options: HttpSensorOptions) {
    super(options, pick(options, FIELDS), [...FIELDS, "responseCheck"]);
    this.responseCheck = options.responseCheck;
  }

  protected override deferralRefusal(options: BaseSensorOptions): string | null {
    return (options as HttpSensorOptions).responseCheck === undefined
      ? null
      : "responseCheck is a function, which the triggerer cannot run (it runs trigger code only).";
  }

  /** The triggerer reads the connection itself: no credentials in the trigger's kwargs. */
  protected override trigger(input: ExecuteInput): TriggerSpec {
    const f = input.fields;
    return triggers.http({
      httpConnId: typeof f.httpConnId === "string" ? f.httpConnId : "http_default",
      endpoint: String(f.endpoint ?? ""),
      method: typeof f.method === "string" ? f.method : "GET",
      ...(f.headers === undefined ? {} : { headers: f.headers as Record<string, string> }),
      ...(f.requestParams === undefined ? {} : { data: f.requestParams }),
      notYetStatuses: (Array.isArray(f.responseErrorCodesAllowlist)
        ? f.responseErrorCodesAllowlist
        : ["404"]
      ).map(String),
      pokeIntervalS: Math.max(0.05, this.pokeIntervalMs / 1000),
    });
  }

  async poke(input: ExecuteInput): Promise<boolean> {
    const f = input.fields;
    const allow = (
      Array.isArray(f.responseErrorCodesAllowlist) ? f.responseErrorCodesAllowlist : ["404"]
    ).map(String);
    const res = await httpRequest(
      input,
      typeof f.httpConnId === "string" ? f.httpConnId : "http_default",
      String(f.endpoint ?? ""),
      {
        method: typeof f.method === "string" ? f.method : "GET",
        data: f.requestParams,
        ...(f.headers === undefined ? {} : { headers: f.headers as Record<string, string> }),
      },
      (status) => allow.includes(String(status)),
    );
    if (!res.ok) return false;
    return this.responseCheck === undefined ? true : await this.responseCheck(res, input.ctx);
  }
}
