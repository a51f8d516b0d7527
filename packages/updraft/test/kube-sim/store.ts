/**
 * Objects, the global resourceVersion (one counter for every kind, as etcd's revision) and a
 * bounded history of changes that watches replay from. Callers get copies: nothing outside the
 * store mutates a stored object without a new resourceVersion and an event.
 */
import { randomUUID } from "node:crypto";
import { alreadyExists, conflict, notFound } from "./status.js";
import type { KubeObject, Resource, StoreEvent, WatchEventType } from "./types.js";

const CLUSTER_SCOPED: ReadonlySet<Resource> = new Set(["namespaces"]);

export function isClusterScoped(resource: Resource): boolean {
  return CLUSTER_SCOPED.has(resource);
}

export class Store {
  private rv = 1;
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  /** Per resource, as the API server's watch cache is: Events flooding in never expire a Pod watch. */
  private readonly history = new Map<Resource, StoreEvent[]>();
  /** Per resource, events with rv ≤ this are gone: a watch from an older resourceVersion gets 410 Gone. */
  private readonly compactedRv = new Map<Resource, number>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  constructor(private readonly historyLimit = 2000) {}

  currentRv(): number {
    return this.rv;
  }

  oldestResumableRv(resource: Resource): number {
    return this.compactedRv.get(resource) ?? 0;
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.table(resource).get(key(resource, namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /**
   * Every object of a resource (in one namespace, or all) that `where` accepts, in key order as
   * etcd returns them. `where` sees the stored object: it must only read it.
   */
  list(resource: Resource, namespace?: string, where: (o: KubeObject) => boolean = () => true): KubeObject[] {
    const found: [string, KubeObject][] = [];
    for (const [k, o] of this.table(resource)) {
      if ((namespace === undefined || o.metadata.namespace === namespace) && where(o)) found.push([k, o]);
    }
    found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return found.map(([, o]) => structuredClone(o));
  }

  /** Stores a new object: uid, creationTimestamp and resourceVersion are the server's. */
  create(resource: Resource, object: KubeObject, group = ""): KubeObject {
    const table = this.table(resource);
    const k = key(resource, object.metadata.namespace, object.metadata.name);
    if (table.has(k)) throw alreadyExists(resource, object.metadata.name, group);
    const stored = structuredClone(object);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = nowSeconds();
    stored.metadata.resourceVersion = String(++this.rv);
    table.set(k, stored);
    this.emit(resource, "ADDED", stored);
    return structuredClone(stored);
  }

  /**
   * Replaces a stored object. With `expectedRv`, a stale writer gets 409 Conflict (optimistic
   * concurrency, as PUT with metadata.resourceVersion does).
   */
  update(resource: Resource, object: KubeObject, expectedRv?: string, group = ""): KubeObject {
    const table = this.table(resource);
    const k = key(resource, object.metadata.namespace, object.metadata.name);
    const previous = table.get(k);
    if (previous === undefined) throw notFound(resource, object.metadata.name, group);
    if (expectedRv !== undefined && expectedRv !== "" && expectedRv !== previous.metadata.resourceVersion) {
      throw conflict(
        resource,
        object.metadata.name,
        "the object has been modified; please apply your changes to the latest version and try again",
        group,
      );
    }
    const stored = structuredClone(object);
    // Identity and creation are the server's, whatever the writer sent.
    stored.metadata.uid = previous.metadata.uid;
    stored.metadata.creationTimestamp = previous.metadata.creationTimestamp;
    stored.metadata.resourceVersion = String(++this.rv);
    table.set(k, stored);
    this.emit(resource, "MODIFIED", stored, previous);
    return structuredClone(stored);
  }

  /** Reads, changes and writes back in one step; undefined when the object is gone. */
  mutate(
    resource: Resource,
    namespace: string | undefined,
    name: string,
    change: (object: KubeObject) => void,
  ): KubeObject | undefined {
    const current = this.get(resource, namespace, name);
    if (current === undefined) return undefined;
    change(current);
    return this.update(resource, current);
  }

  remove(resource: Resource, namespace: string | undefined, name: string, group = ""): KubeObject {
    const table = this.table(resource);
    const k = key(resource, namespace, name);
    const previous = table.get(k);
    if (previous === undefined) throw notFound(resource, name, group);
    table.delete(k);
    const last = structuredClone(previous);
    last.metadata.resourceVersion = String(++this.rv);
    this.emit(resource, "DELETED", last, previous);
    return structuredClone(last);
  }

  /** Changes after `rv`, or "expired" when some of them were compacted away. */
  eventsSince(resource: Resource, rv: number): StoreEvent[] | "expired" {
    if (rv < this.oldestResumableRv(resource)) return "expired";
    return (this.history.get(resource) ?? []).filter((e) => e.rv > rv);
  }

  /** Forgets the history, as etcd compaction does: older resourceVersions can no longer be watched from. */
  compact(): void {
    this.history.clear();
    for (const resource of [
      "pods",
      "secrets",
      "configmaps",
      "events",
      "namespaces",
      "sparkapplications",
    ] as const) {
      this.compactedRv.set(resource, this.rv);
    }
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(resource: Resource, type: WatchEventType, object: KubeObject, previous?: KubeObject): void {
    const event: StoreEvent = {
      resource,
      type,
      object: structuredClone(object),
      ...(previous === undefined ? {} : { previous: structuredClone(previous) }),
      rv: this.rv,
    };
    let history = this.history.get(resource);
    if (history === undefined) {
      history = [];
      this.history.set(resource, history);
    }
    history.push(event);
    if (history.length > this.historyLimit) {
      const dropped = history.splice(0, history.length - this.historyLimit);
      this.compactedRv.set(resource, dropped[dropped.length - 1]!.rv);
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  private table(resource: Resource): Map<string, KubeObject> {
    let table = this.objects.get(resource);
    if (table === undefined) {
      table = new Map();
      this.objects.set(resource, table);
    }
    return table;
  }
}

function key(resource: Resource, namespace: string | undefined, name: string): string {
  return isClusterScoped(resource) ? name : `${namespace ?? ""}/${name}`;
}

/** Kubernetes timestamps are RFC 3339 with second precision. */
export function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}
