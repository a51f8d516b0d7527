/**
 * Watch streams: newline-delimited JSON events starting after a resourceVersion, replayed from
 * the store's history, with 410 Gone (an ERROR event holding a Status, reason Expired) when that
 * history was compacted, as the API server's watch cache answers.
 */
import type { ServerResponse } from "node:http";
import type { Matcher } from "./selectors.js";
import { gone, statusObject } from "./status.js";
import type { Store } from "./store.js";
import type { KubeObject, Resource, StoreEvent } from "./types.js";

export interface WatchRequest {
  resource: Resource;
  namespace?: string;
  match: Matcher;
  resourceVersion?: string;
  timeoutSeconds?: number;
  bookmarks: boolean;
  /** `sendInitialEvents=true` (the watch-list protocol client-go uses): current objects, then a BOOKMARK marking their end. */
  sendInitialEvents: boolean;
  /** How objects go on the wire (a Table row for kubectl, the object itself otherwise). */
  render: (object: KubeObject, type: string) => unknown;
  kindForBookmark: { apiVersion: string; kind: string };
}

export interface OpenWatch {
  pathAndQuery: string;
  close(): void;
}

export function serveWatch(
  store: Store,
  request: WatchRequest,
  res: ServerResponse,
  pathAndQuery: string,
  open: Set<OpenWatch>,
  bookmarkMs: number,
): void {
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Transfer-Encoding": "chunked",
    "Cache-Control": "no-cache",
  });
  res.flushHeaders();
  const send = (type: string, object: unknown) => {
    if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + "\n");
  };
  const inScope = (o: KubeObject) =>
    request.namespace === undefined || o.metadata.namespace === request.namespace;
  const forward = (e: StoreEvent) => {
    if (e.resource !== request.resource) return;
    const now = inScope(e.object) && request.match(e.object);
    const before = e.previous !== undefined && inScope(e.previous) && request.match(e.previous);
    let type: string | undefined;
    if (e.type === "ADDED") type = now ? "ADDED" : undefined;
    else if (e.type === "DELETED") type = before || now ? "DELETED" : undefined;
    else if (now) type = before ? "MODIFIED" : "ADDED";
    else if (before) type = "DELETED";
    if (type !== undefined) send(type, request.render(e.object, type));
  };

  const rv = request.resourceVersion;
  let replay: StoreEvent[] = [];
  if (request.sendInitialEvents) {
    for (const o of store.list(request.resource, request.namespace, request.match))
      send("ADDED", request.render(o, "ADDED"));
    send("BOOKMARK", {
      ...request.kindForBookmark,
      metadata: {
        resourceVersion: String(store.currentRv()),
        annotations: { "k8s.io/initial-events-end": "true" },
      },
    });
  } else if (rv === undefined || rv === "" || rv === "0") {
    // No resourceVersion: the current state as ADDED events, then changes ("Get State and Start at Most Recent").
    for (const o of store.list(request.resource, request.namespace, request.match))
      send("ADDED", request.render(o, "ADDED"));
  } else {
    const from = Number(rv);
    const events = Number.isFinite(from) ? store.eventsSince(request.resource, from) : "expired";
    if (events === "expired") {
      const error = gone(
        `too old resource version: ${rv} (${store.oldestResumableRv(request.resource) + 1})`,
      );
      send("ERROR", statusObject(410, "Expired", error.message));
      res.end();
      return;
    }
    replay = events;
  }
  for (const e of replay) forward(e);
  const unsubscribe = store.subscribe(forward);
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    unsubscribe();
    clearTimeout(bookmarkTimer);
    clearTimeout(timeoutTimer);
    open.delete(entry);
  };
  const entry: OpenWatch = {
    pathAndQuery,
    close: () => {
      stop();
      if (!res.writableEnded) res.end();
      // A disconnect, as a dropped connection: the client must resume from its last resourceVersion.
      res.socket?.destroy();
    },
  };
  open.add(entry);
  res.on("close", stop);
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
    // The server ends the watch cleanly after timeoutSeconds, as the API server does.
    timeoutTimer = setTimeout(() => {
      stop();
      res.end();
    }, request.timeoutSeconds * 1000);
  }
  if (request.bookmarks) {
    const bookmark = () => {
      send("BOOKMARK", {
        ...request.kindForBookmark,
        metadata: { resourceVersion: String(store.currentRv()) },
      });
      bookmarkTimer = setTimeout(bookmark, bookmarkMs);
    };
    bookmarkTimer = setTimeout(bookmark, bookmarkMs);
  }
}
