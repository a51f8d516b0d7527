// The runner's side of the execution API (src/model/execution-api.ts). One keep-alive agent per
// API origin lives as long as the process, so a warm runner reuses its sockets from task to task
// instead of paying a TCP handshake per request.
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { UpdraftError } from "../common/errors.js";
import {
  ConnectionPayloadSchema,
  FinishResponseSchema,
  StartResponseSchema,
  XComValueSchema,
  type ConnectionPayload,
  type DeferRequest,
  type RescheduleRequest,
  type FinishRequest,
  type FinishResponse,
  type StartRequest,
  type StartResponse,
  type TaskInstanceKey,
} from "../model/execution-api.js";

/** Error codes of failed execution API calls; `status` is in `details`. */
export const API_CONFLICT = "EXECUTION_API_CONFLICT";
export const API_NOT_FOUND = "EXECUTION_API_NOT_FOUND";
export const API_TOO_LARGE = "EXECUTION_API_TOO_LARGE";
export const API_ERROR = "EXECUTION_API_ERROR";
export const API_UNREACHABLE = "EXECUTION_API_UNREACHABLE";

/** Waits between attempts of `start` after a 5xx or no answer. */
const START_RETRY_DELAYS_MS = [100, 500, 1500, 3000];

const agents = new Map<string, Agent>();

function agentFor(url: URL): Agent {
  let agent = agents.get(url.origin);
  if (agent === undefined) {
    const options = { keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 8, maxFreeSockets: 4 };
    agent = url.protocol === "https:" ? new HttpsAgent(options) : new Agent(options);
    agents.set(url.origin, agent);
  }
  return agent;
}

/** Closes idle sockets, so that a one-shot runner exits without waiting for keep-alive timeouts. */
export function closeApiAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** The path prefix of the execution API; accepts `http://host:port`, `…/` and `…/execution/`. */
function executionPrefix(url: URL): string {
  return `${url.pathname.replace(/\/+$/, "").replace(/\/execution$/, "")}/execution`;
}

interface RawResponse {
  status: number;
  body: unknown;
}

function problemDetail(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null)
    return typeof body === "string" && body !== "" ? body : undefined;
  const p = body as Record<string, unknown>;
  const detail = p["detail"] ?? p["title"] ?? p["message"];
  return typeof detail === "string" ? detail : undefined;
}

/** The server's error code and details of a problem answer, for callers that act on them. */
function problemCode(body: unknown): { problem_code?: string; problem_details?: unknown } {
  if (typeof body !== "object" || body === null) return {};
  const p = body as Record<string, unknown>;
  return typeof p["code"] === "string" ? { problem_code: p["code"], problem_details: p["details"] } : {};
}

/** A client for one try: every call carries the try's token. */
export class ExecutionApiClient {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly agent: Agent;
  private readonly auth: string;
  /** Milliseconds before a request is abandoned (a cut network must not hang a runner). */
  requestTimeoutMs = 30_000;

  constructor(apiUrl: string, token: string) {
    this.base = new URL(apiUrl);
    this.prefix = executionPrefix(this.base);
    this.agent = agentFor(this.base);
    this.auth = `Bearer ${token}`;
  }

  private send(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<RawResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: this.auth, accept: "application/json" };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    const doRequest = this.base.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = doRequest(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method,
          path: `${this.prefix}${path}`,
          headers,
          agent: this.agent,
          timeout: timeoutMs,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => reject(unreachable(method, path, err)));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            if (text !== "" && /json/.test(res.headers["content-type"] ?? "")) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (err) => reject(unreachable(method, path, err)));
      req.end(payload);
    });
  }

  private async call(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
    const res = await this.send(method, path, body, timeoutMs);
    if (res.status >= 200 && res.status < 300) return res.body;
    const detail = problemDetail(res.body) ?? `HTTP ${res.status}`;
    const details = { status: res.status, route: `${method} /execution${path}` };
    const code =
      res.status === 409
        ? API_CONFLICT
        : res.status === 404
          ? API_NOT_FOUND
          : res.status === 413
            ? API_TOO_LARGE
            : API_ERROR;
    throw new UpdraftError(code, `${method} /execution${path} was refused (${res.status}): ${detail}`, {
      details: { ...details, detail, ...problemCode(res.body) },
    });
  }

  /**
   * Retried when the server failed (5xx, e.g. its database connection was cut) or did not answer:
   * given up at once, the try would stay queued until scheduler.task_queued_timeout. A retry is
   * safe: start is guarded on (queued, try), so if the first attempt was applied after all, the
   * retry gets 409 and the heartbeat timeout settles the try once.
   */
  async start(req: StartRequest): Promise<StartResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return StartResponseSchema.parse(await this.call("POST", "/ti/start", req));
      } catch (err) {
        const delay = START_RETRY_DELAYS_MS[attempt];
        if (!isTransient(err) || delay === undefined) throw err;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async heartbeat(req: StartRequest, timeoutMs: number): Promise<void> {
    await this.call("POST", "/ti/heartbeat", req, timeoutMs);
  }

  async finish(req: FinishRequest): Promise<FinishResponse> {
    return FinishResponseSchema.parse(await this.call("POST", "/ti/finish", req));
  }

  /** Ends this run of the try as deferred on a trigger (decision 0030). */
  async defer(req: DeferRequest): Promise<{ state: string }> {
    return (await this.call("POST", "/ti/defer", req)) as { state: string };
  }

  /** Ends this run of a sensor's try as up_for_reschedule until the date. */
  async reschedule(req: RescheduleRequest): Promise<{ state: string }> {
    return (await this.call("POST", "/ti/reschedule", req)) as { state: string };
  }

  async renderedFields(fields: Record<string, unknown>): Promise<void> {
    await this.call("POST", "/ti/rendered-fields", { fields });
  }

  /** The value, or undefined when there is none (404). `mapIndex` null asks for all mapped instances. */
  async xcomGet(
    ti: Pick<TaskInstanceKey, "dag_id" | "run_id">,
    taskId: string,
    key: string,
    mapIndex: number | null,
  ): Promise<unknown> {
    const q = new URLSearchParams({ key });
    if (mapIndex !== null) q.set("map_index", String(mapIndex));
    const path = `/xcom/${enc(ti.dag_id)}/${enc(ti.run_id)}/${enc(taskId)}?${q.toString()}`;
    try {
      return XComValueSchema.parse(await this.call("GET", path)).value;
    } catch (err) {
      if (err instanceof UpdraftError && err.code === API_NOT_FOUND) return undefined;
      throw err;
    }
  }

  async xcomPush(key: string, value: unknown): Promise<void> {
    await this.call("POST", "/xcom", { key, value });
  }

  /** A control route (api/execution/control.ts): other DAGs' runs and states. */
  async control(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
    return this.call(method, `/control${path}`, body);
  }

  /** The variable's value, or undefined when it does not exist. */
  async variable(key: string): Promise<string | undefined> {
    try {
      const body = (await this.call("GET", `/variables/${enc(key)}`)) as { value?: unknown };
      return typeof body.value === "string" ? body.value : JSON.stringify(body.value);
    } catch (err) {
      if (err instanceof UpdraftError && err.code === API_NOT_FOUND) return undefined;
      throw err;
    }
  }

  /** The connection, or undefined when it does not exist. */
  async connection(connId: string): Promise<ConnectionPayload | undefined> {
    try {
      return ConnectionPayloadSchema.parse(await this.call("GET", `/connections/${enc(connId)}`));
    } catch (err) {
      if (err instanceof UpdraftError && err.code === API_NOT_FOUND) return undefined;
      throw err;
    }
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function unreachable(method: string, path: string, err: Error): UpdraftError {
  return new UpdraftError(
    API_UNREACHABLE,
    `${method} /execution${path} failed: ${err.message}. Check that the API server is running and reachable from the runner.`,
    { cause: err },
  );
}

/** True when a request never got an answer, or the server failed (5xx): worth another attempt. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof UpdraftError)) return false;
  if (err.code === API_UNREACHABLE) return true;
  const status = err.details["status"];
  return err.code === API_ERROR && typeof status === "number" && status >= 500;
}
