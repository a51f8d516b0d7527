/**
 * The HTTP front: faults on requests, the request log, discovery, and dispatch of each REST path
 * to its handler. Every error leaves as a `kind: Status` body with the matching HTTP code.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  apiGroupList,
  apiVersions,
  coreV1Resources,
  sparkGroup,
  sparkResources,
  versionInfo,
} from "./discovery.js";
import type { Faults } from "./faults.js";
import { injectedError } from "./api-faults.js";
import { openApiGroupVersion, openApiRoot } from "./openapi.js";
import type { Handlers } from "./handlers.js";
import { servePodLog } from "./pod-log.js";
import type { PodRuntime } from "./pods-runtime.js";
import { kindOf, parseRoute, type Route } from "./routes.js";
import { labelSelector, fieldSelector } from "./selectors.js";
import { ApiError, badRequest, statusObject } from "./status.js";
import type { Store } from "./store.js";
import { toTable, wantsTable } from "./table.js";
import type { KubeObject } from "./types.js";
import { type OpenWatch, serveWatch } from "./watch.js";

export interface RequestRecord {
  method: string;
  /** The path without the query string. */
  path: string;
  query: string;
  status: number;
}

export interface ServerParts {
  store: Store;
  runtime: PodRuntime;
  faults: Faults;
  handlers: Handlers;
  bookmarkMs: number;
}

export class SimServer {
  readonly http: Server;
  readonly requests: RequestRecord[] = [];
  readonly watches = new Set<OpenWatch>();
  /** Warnings sent (unknown fields dropped), for tests that assert their requests had none. */
  readonly warnings: { method: string; path: string; warning: string }[] = [];
  private readonly streams = new Set<() => void>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly parts: ServerParts) {
    this.http = createServer((req, res) => void this.handle(req, res));
    this.http.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  /** Ends watches and log streams and drops every connection (hung requests included). */
  async close(): Promise<void> {
    for (const w of [...this.watches]) w.close();
    for (const stop of [...this.streams]) stop();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kube-sim");
    const method = (req.method ?? "GET").toUpperCase();
    const record: RequestRecord = { method, path: url.pathname, query: url.search, status: 0 };
    this.requests.push(record);
    res.on("finish", () => (record.status = res.statusCode));
    const hit = this.parts.faults.takeApi(method, url.pathname + url.search);
    if (hit?.kind === "timeout") return; // never answered: the client's timeout decides
    try {
      if (hit?.kind === "error") {
        if (hit.status === 429) res.setHeader("Retry-After", "1");
        throw injectedError(hit.status, method, url, hit.message);
      }
      const body = ["POST", "PUT", "PATCH", "DELETE"].includes(method) ? await readJson(req) : undefined;
      this.dispatch(method, url, req, res, body);
    } catch (err) {
      const error =
        err instanceof ApiError
          ? err
          : new ApiError(
              500,
              "InternalError",
              `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
            );
      if (!res.headersSent) json(res, error.code, error.toStatus());
      else res.end();
    }
  }

  private dispatch(method: string, url: URL, req: IncomingMessage, res: ServerResponse, body: unknown): void {
    const { store, handlers, runtime } = this.parts;
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const query = url.searchParams;
    const host = req.headers.host ?? "127.0.0.1";
    const discovery: Record<string, () => unknown> = {
      "/version": versionInfo,
      "/api": () => apiVersions(host),
      "/api/v1": coreV1Resources,
      "/apis": apiGroupList,
      [`/apis/${"sparkoperator.k8s.io"}`]: sparkGroup,
      [`/apis/${"sparkoperator.k8s.io"}/v1beta2`]: sparkResources,
    };
    if (method === "GET" && discovery[path] !== undefined) return json(res, 200, discovery[path]());
    if (method === "GET" && path === "/openapi/v3") return json(res, 200, openApiRoot());
    if (method === "GET" && path.startsWith("/openapi/v3/")) {
      const doc = openApiGroupVersion(path.slice("/openapi/v3/".length));
      if (doc !== undefined) return json(res, 200, doc);
    }
    if (method === "GET" && ["/healthz", "/readyz", "/livez"].includes(path)) {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
      return;
    }
    const warnings: string[] = [];
    res.on("finish", () => {
      for (const warning of warnings) this.warnings.push({ method, path, warning });
    });
    const route = parseRoute(path);
    if (route === undefined)
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    const table = wantsTable(req.headers.accept);
    const render = (o: KubeObject) =>
      table ? toTable(route.resource, [o], o.metadata.resourceVersion, query.get("includeObject")) : o;

    if (route.name === undefined) {
      const watching = query.get("watch") === "true" || query.get("watch") === "1";
      if (method === "GET" && watching) return this.watch(route, query, url, res, table);
      if (method === "GET") {
        const list = handlers.list(route, query);
        const metadata = {
          resourceVersion: list.resourceVersion,
          ...(list.continue === undefined ? {} : { continue: list.continue }),
        };
        if (table)
          return json(res, 200, {
            ...toTable(route.resource, list.items, list.resourceVersion, query.get("includeObject")),
            metadata,
          });
        const kind = kindOf(route.resource);
        return json(res, 200, {
          kind: `${kind.kind}List`,
          apiVersion: kind.apiVersion,
          metadata,
          items: list.items,
        });
      }
      if (method === "POST" && route.namespace !== undefined)
        return json(res, 201, render(handlers.create(route, body, query, warnings)), warnings);
      if (method === "POST" && route.resource === "namespaces")
        return json(res, 201, render(handlers.create(route, body, query, warnings)), warnings);
      if (method === "DELETE" && route.namespace !== undefined) {
        const r = handlers.deleteCollection(route, query, body);
        return json(res, r.code, r.body);
      }
      throw methodNotAllowed(method, path);
    }
    if (route.subresource === "log") {
      if (method !== "GET" || route.resource !== "pods") throw methodNotAllowed(method, path);
      return servePodLog(store, runtime, route.namespace!, route.name, query, res, (stop) => {
        this.streams.add(stop);
        res.on("close", () => this.streams.delete(stop));
      });
    }
    if (route.subresource !== undefined && route.subresource !== "status")
      throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    switch (method) {
      case "GET":
        return json(res, 200, render(handlers.get(route)));
      case "PUT":
        return json(res, 200, render(handlers.replace(route, body, query, warnings)), warnings);
      case "PATCH":
        return json(
          res,
          200,
          render(
            handlers.patch(
              route,
              body,
              req.headers["content-type"] ?? "application/merge-patch+json",
              query,
              warnings,
            ),
          ),
          warnings,
        );
      case "DELETE": {
        if (route.subresource !== undefined) throw methodNotAllowed(method, path);
        const r = handlers.delete(route, query, body);
        return json(res, r.code, r.body);
      }
      default:
        throw methodNotAllowed(method, path);
    }
  }

  private watch(route: Route, query: URLSearchParams, url: URL, res: ServerResponse, table: boolean): void {
    const labels = labelSelector(query.get("labelSelector"));
    const fields = fieldSelector(route.resource, query.get("fieldSelector"));
    const timeout = query.get("timeoutSeconds");
    let first = true;
    serveWatch(
      this.parts.store,
      {
        resource: route.resource,
        ...(route.namespace === undefined ? {} : { namespace: route.namespace }),
        match: (o) => labels(o) && fields(o),
        ...(query.get("resourceVersion") === null ? {} : { resourceVersion: query.get("resourceVersion")! }),
        ...(timeout === null ? {} : { timeoutSeconds: Number(timeout) }),
        bookmarks: query.get("allowWatchBookmarks") === "true",
        sendInitialEvents: query.get("sendInitialEvents") === "true",
        render: (o) => {
          if (!table) return o;
          const t = toTable(
            route.resource,
            [o],
            o.metadata.resourceVersion,
            query.get("includeObject"),
            first,
          );
          first = false;
          return t;
        },
        kindForBookmark: kindOf(route.resource),
      },
      res,
      url.pathname + url.search,
      this.watches,
      this.parts.bookmarkMs,
    );
  }
}

function methodNotAllowed(method: string, path: string): ApiError {
  return new ApiError(
    405,
    "MethodNotAllowed",
    `the server does not allow this method on the requested resource (${method} ${path})`,
  );
}

function json(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    // As the API server warns: `Warning: 299 - "unknown field \"spec.x\""`, one header value each.
    ...(warnings.length === 0 ? {} : { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) }),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}

export { statusObject };
