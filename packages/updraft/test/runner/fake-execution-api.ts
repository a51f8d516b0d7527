// A small execution API server for runner and executor tests: the routes of
// src/model/execution-api.ts over node:http with in-memory state. It exists because the real API
// server is being written in parallel; it follows the contract (and decision 0006: start only from
// queued, heartbeat/finish only while running for that try) so that tests can later run against the
// real server by swapping this one file.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  FinishRequestSchema,
  HeartbeatRequestSchema,
  StartRequestSchema,
  XComPushRequestSchema,
  taskLogRelativePath,
  type CallbackWorkload,
  type ConnectionPayload,
  type FinishRequest,
  type StartResponse,
  type TaskInstanceKey,
  type TaskWorkload,
} from "../../src/model/execution-api.js";

export interface FakeTi {
  key: TaskInstanceKey;
  state: string;
  try_number: number;
  max_tries: number;
  heartbeats: number;
  rendered: Record<string, unknown> | null;
  finishes: FinishRequest[];
  /** Set by a test: refuse the next heartbeat with 409 (the server gave the try away). */
  giveAwayOnHeartbeat: boolean;
}

interface Claims {
  ti: TaskInstanceKey;
  try_number: number;
  scope: "task" | "callback";
}

export interface FakeApiOptions {
  heartbeatIntervalS?: number;
  xcomMaxSize?: number;
  logDir: string;
  logicalDate?: string;
  params?: Record<string, unknown>;
  conf?: Record<string, unknown>;
  maskSecrets?: string[];
}

export const tiKey = (k: TaskInstanceKey) => `${k.dag_id}|${k.run_id}|${k.task_id}|${k.map_index}`;

export interface FakeExecutionApi {
  url: string;
  tis: Map<string, FakeTi>;
  /** `dag|run|task|map|key` → value. */
  xcoms: Map<string, unknown>;
  variables: Map<string, string>;
  connections: Map<string, ConnectionPayload>;
  /** Every request, as "METHOD path". */
  requests: string[];
  options: FakeApiOptions;
  /** Creates (or requeues) a task instance for its next try and returns the workload for it. */
  queueTask(
    key: Omit<TaskInstanceKey, "map_index"> & { map_index?: number },
    o: {
      fileloc: string;
      maxTries?: number;
      executionTimeoutMs?: number | null;
      freshProcess?: boolean;
      priorityWeight?: number;
    },
  ): TaskWorkload;
  callbackWorkload(
    key: TaskInstanceKey,
    o: { fileloc: string; callback: CallbackWorkload["callback"]; error?: string },
  ): CallbackWorkload;
  ti(key: Omit<TaskInstanceKey, "map_index"> & { map_index?: number }): FakeTi;
  setXCom(key: TaskInstanceKey, xcomKey: string, value: unknown): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const problem = status >= 400;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": problem ? "application/problem+json" : "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function problem(res: ServerResponse, status: number, title: string, detail: string, code: string): void {
  send(res, status, { type: "about:blank", title, status, detail, code });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : (JSON.parse(text) as unknown);
}

export async function startFakeExecutionApi(options: FakeApiOptions): Promise<FakeExecutionApi> {
  const tis = new Map<string, FakeTi>();
  const xcoms = new Map<string, unknown>();
  const variables = new Map<string, string>();
  const connections = new Map<string, ConnectionPayload>();
  const tokens = new Map<string, Claims>();
  const requests: string[] = [];
  const logicalDate = options.logicalDate ?? "2026-01-05T00:00:00.000Z";

  const full = (k: Omit<TaskInstanceKey, "map_index"> & { map_index?: number }): TaskInstanceKey => ({
    ...k,
    map_index: k.map_index ?? -1,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    requests.push(`${req.method} ${path}`);
    const auth = req.headers.authorization ?? "";
    const claims = tokens.get(auth.replace(/^Bearer /, ""));
    if (claims === undefined)
      return problem(res, 401, "Unauthorized", "A valid task token is required.", "UNAUTHORIZED");
    const ti = tis.get(tiKey(claims.ti));
    if (req.method === "POST" && claims.scope !== "task") {
      return problem(res, 403, "Forbidden", "A callback token can only read.", "FORBIDDEN");
    }
    const sameTry = ti !== undefined && ti.try_number === claims.try_number;

    if (req.method === "POST" && path === "/execution/ti/start") {
      StartRequestSchema.parse(await readJson(req));
      if (ti === undefined || !sameTry || ti.state !== "queued") {
        return problem(
          res,
          409,
          "Conflict",
          `Task instance is ${ti?.state ?? "missing"}, not queued for try ${claims.try_number}.`,
          "TI_NOT_QUEUED",
        );
      }
      ti.state = "running";
      const body: StartResponse = {
        dag_run: {
          dag_id: claims.ti.dag_id,
          run_id: claims.ti.run_id,
          run_type: "manual",
          logical_date: logicalDate,
          data_interval_start: logicalDate,
          data_interval_end: new Date(new Date(logicalDate).getTime() + 86_400_000).toISOString(),
          start_date: new Date().toISOString(),
          conf: options.conf ?? {},
        },
        params: options.params ?? {},
        max_tries: ti.max_tries,
        heartbeat_interval_s: options.heartbeatIntervalS ?? 5,
        ...(options.maskSecrets === undefined ? {} : { mask_secrets: options.maskSecrets }),
      };
      return send(res, 200, body);
    }
    if (req.method === "POST" && path === "/execution/ti/heartbeat") {
      HeartbeatRequestSchema.parse(await readJson(req));
      if (ti === undefined || !sameTry || ti.state !== "running")
        return problem(res, 409, "Conflict", "The try is not running.", "TI_NOT_RUNNING");
      if (ti.giveAwayOnHeartbeat) {
        ti.state = "failed";
        return problem(res, 409, "Conflict", "The try was marked failed.", "TI_NOT_RUNNING");
      }
      ti.heartbeats++;
      return send(res, 204);
    }
    if (req.method === "POST" && path === "/execution/ti/finish") {
      const body = FinishRequestSchema.parse(await readJson(req));
      if (ti === undefined || !sameTry || ti.state !== "running")
        return problem(res, 409, "Conflict", "Late report: the try is not running.", "TI_NOT_RUNNING");
      ti.finishes.push(body);
      ti.state =
        body.state === "failed" && body.no_retry !== true && ti.try_number < ti.max_tries
          ? "up_for_retry"
          : body.state;
      return send(res, 200, { state: ti.state });
    }
    if (req.method === "POST" && path === "/execution/ti/rendered-fields") {
      const body = (await readJson(req)) as { fields: Record<string, unknown> };
      if (ti !== undefined) ti.rendered = body.fields;
      return send(res, 204);
    }
    if (req.method === "POST" && path === "/execution/xcom") {
      const raw = await readJson(req);
      const body = XComPushRequestSchema.parse(raw);
      const size = Buffer.byteLength(JSON.stringify(body.value));
      const max = options.xcomMaxSize ?? 1_048_576;
      if (size > max) {
        return problem(
          res,
          413,
          "Payload Too Large",
          `XCom "${body.key}" of task "${claims.ti.task_id}" is ${size} bytes, above core.xcom_max_size (${max} bytes).`,
          "XCOM_TOO_LARGE",
        );
      }
      xcoms.set(`${tiKey(claims.ti)}|${body.key}`, body.value);
      return send(res, 204);
    }
    const xm = /^\/execution\/xcom\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (req.method === "GET" && xm !== null) {
      const [dagId, runId, taskId] = [xm[1], xm[2], xm[3]].map((s) => decodeURIComponent(s ?? ""));
      if (dagId !== claims.ti.dag_id || runId !== claims.ti.run_id)
        return problem(
          res,
          403,
          "Forbidden",
          "Only XComs of the token's own DAG run can be read.",
          "FORBIDDEN",
        );
      const key = url.searchParams.get("key") ?? "return_value";
      const mi = url.searchParams.get("map_index");
      if (mi === null) {
        // All mapped instances' values, in map_index order.
        const prefix = `${dagId}|${runId}|${taskId}|`;
        const found = [...xcoms.entries()]
          .filter(
            ([k]) =>
              k.startsWith(prefix) &&
              k.endsWith(`|${key}`) &&
              Number(k.slice(prefix.length).split("|")[0]) >= 0,
          )
          .sort(
            ([a], [b]) =>
              Number(a.slice(prefix.length).split("|")[0]) - Number(b.slice(prefix.length).split("|")[0]),
          )
          .map(([, v]) => v);
        if (found.length === 0) return problem(res, 404, "Not Found", "No XCom.", "XCOM_NOT_FOUND");
        return send(res, 200, { key, value: found });
      }
      const k = `${dagId}|${runId}|${taskId}|${mi}|${key}`;
      if (!xcoms.has(k))
        return problem(res, 404, "Not Found", `No XCom "${key}" for task "${taskId}".`, "XCOM_NOT_FOUND");
      return send(res, 200, { key, value: xcoms.get(k) });
    }
    const vm = /^\/execution\/variables\/([^/]+)$/.exec(path);
    if (req.method === "GET" && vm !== null) {
      const key = decodeURIComponent(vm[1] ?? "");
      const value = variables.get(key);
      if (value === undefined)
        return problem(res, 404, "Not Found", `Variable "${key}" does not exist.`, "VARIABLE_NOT_FOUND");
      return send(res, 200, { key, value });
    }
    const cm = /^\/execution\/connections\/([^/]+)$/.exec(path);
    if (req.method === "GET" && cm !== null) {
      const c = connections.get(decodeURIComponent(cm[1] ?? ""));
      if (c === undefined)
        return problem(res, 404, "Not Found", "No such connection.", "CONNECTION_NOT_FOUND");
      return send(res, 200, c);
    }
    return problem(res, 404, "Not Found", `No route ${req.method} ${path}.`, "NOT_FOUND");
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      problem(res, 400, "Bad Request", err instanceof Error ? err.message : String(err), "BAD_REQUEST"),
    );
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const newToken = (claims: Claims) => {
    const token = `tok-${randomBytes(12).toString("hex")}`;
    tokens.set(token, claims);
    return token;
  };

  return {
    url,
    tis,
    xcoms,
    variables,
    connections,
    requests,
    options,
    queueTask(k, o) {
      const key = full(k);
      const existing = tis.get(tiKey(key));
      const ti: FakeTi = existing ?? {
        key,
        state: "none",
        try_number: 0,
        max_tries: o.maxTries ?? 1,
        heartbeats: 0,
        rendered: null,
        finishes: [],
        giveAwayOnHeartbeat: false,
      };
      ti.try_number++;
      ti.state = "queued";
      tis.set(tiKey(key), ti);
      return {
        kind: "task",
        ti: key,
        try_number: ti.try_number,
        fileloc: o.fileloc,
        token: newToken({ ti: key, try_number: ti.try_number, scope: "task" }),
        api_url: url,
        log_path: join(options.logDir, taskLogRelativePath(key, ti.try_number)),
        fresh_process: o.freshProcess ?? false,
        queue: "default",
        priority_weight: o.priorityWeight ?? 1,
        execution_timeout_ms: o.executionTimeoutMs ?? null,
      };
    },
    callbackWorkload(key, o) {
      const ti = tis.get(tiKey(key));
      const tryNumber = Math.max(1, ti?.try_number ?? 1);
      return {
        kind: "callback",
        callback: o.callback,
        ti: key,
        try_number: tryNumber,
        fileloc: o.fileloc,
        token: newToken({ ti: key, try_number: tryNumber, scope: "callback" }),
        api_url: url,
        log_path: join(options.logDir, "callbacks", `${key.dag_id}-${o.callback}.log`),
        error: o.error ?? null,
      };
    },
    ti(k) {
      const ti = tis.get(tiKey(full(k)));
      if (ti === undefined) throw new Error(`no task instance ${tiKey(full(k))}`);
      return ti;
    },
    setXCom(key, xcomKey, value) {
      xcoms.set(`${tiKey(key)}|${xcomKey}`, value);
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
