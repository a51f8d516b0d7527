/**
 * The REST verbs with the API server's semantics: create (generateName, defaults, validation,
 * 409), get, list (selectors, limit/continue), replace (optimistic concurrency), patch, delete
 * (graceful for Pods) and owner-reference garbage collection.
 */
import { defaultPod, defaultSecret, generatedName } from "./defaults.js";
import { checkFields } from "./fields.js";
import { applyPatch } from "./patch.js";
import type { PodRuntime } from "./pods-runtime.js";
import { kindOf, type Route } from "./routes.js";
import { fieldSelector, labelSelector } from "./selectors.js";
import { ApiError, badRequest, invalid, notFound, statusObject } from "./status.js";
import { nowSeconds, type Store } from "./store.js";
import type { KubeObject, Resource } from "./types.js";
import { checkPodUpdate, validateObject } from "./validate.js";

export interface Hooks {
  /** Extra validation for a kind the schema package does not know (SparkApplication). */
  validate?(resource: Resource, object: KubeObject): void;
  afterCreate?(resource: Resource, object: KubeObject): void;
}

export class Handlers {
  constructor(
    private readonly store: Store,
    private readonly runtime: PodRuntime,
    private readonly hooks: Hooks,
    /** Create a missing namespace on first use; otherwise a create in it is 404, as on a real server. */
    private readonly autoCreateNamespaces = true,
  ) {}

  create(route: Route, body: unknown, query: URLSearchParams, warnings: string[] = []): KubeObject {
    const object = asObject(body);
    const expected = kindOf(route.resource);
    if (object.apiVersion !== undefined && object.apiVersion !== expected.apiVersion) {
      throw badRequest(
        `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected.apiVersion})`,
      );
    }
    if (object.kind !== undefined && object.kind !== expected.kind) {
      throw badRequest(
        `the kind in the data (${String(object.kind)}) does not match the expected kind (${expected.kind})`,
      );
    }
    object.apiVersion = expected.apiVersion;
    object.kind = expected.kind;
    const meta = (object.metadata ?? {}) as KubeObject["metadata"];
    object.metadata = meta;
    if (route.namespace !== undefined) {
      if (meta.namespace !== undefined && meta.namespace !== "" && meta.namespace !== route.namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = route.namespace;
    }
    if ((meta.name ?? "") === "") {
      if ((meta.generateName ?? "") === "") {
        throw invalid(expected.kind, "", [
          {
            field: "metadata.name",
            message: "Required value: name or generateName is required",
            reason: "FieldValueRequired",
          },
        ]);
      }
      meta.name = generatedName(meta.generateName!);
    }
    // Server-owned fields: whatever a client sent is replaced (the store sets uid, timestamps, resourceVersion).
    for (const field of [
      "uid",
      "resourceVersion",
      "creationTimestamp",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "selfLink",
      "managedFields",
    ]) {
      delete (meta as unknown as Record<string, unknown>)[field];
    }
    delete object.status;
    if (route.resource === "pods") {
      defaultPod(object);
      object.status = { phase: "Pending" };
    }
    if (route.resource === "secrets") defaultSecret(object);
    if (route.resource === "sparkapplications") meta.generation = 1;
    warnings.push(...checkFields(route.resource, object, query.get("fieldValidation")));
    validateObject(route.resource, object);
    this.hooks.validate?.(route.resource, object);
    if (query.get("dryRun") === "All") return object;
    if (route.namespace !== undefined) {
      if (this.autoCreateNamespaces) this.ensureNamespace(route.namespace);
      else if (this.store.get("namespaces", undefined, route.namespace) === undefined)
        throw notFound("namespaces", route.namespace);
    }
    const created = this.store.create(route.resource, object, route.group);
    if (route.resource === "pods") this.runtime.admit(created);
    this.hooks.afterCreate?.(route.resource, created);
    return this.store.get(route.resource, route.namespace, created.metadata.name) ?? created;
  }

  get(route: Route): KubeObject {
    const found = this.store.get(route.resource, route.namespace, route.name!);
    if (found === undefined) throw notFound(route.resource, route.name!, route.group);
    return found;
  }

  /** A list's items (selected, paginated), its resourceVersion and continue token. */
  list(
    route: Route,
    query: URLSearchParams,
  ): { items: KubeObject[]; resourceVersion: string; continue?: string } {
    const labels = labelSelector(query.get("labelSelector"));
    const fields = fieldSelector(route.resource, query.get("fieldSelector"));
    let items = this.store.list(route.resource, route.namespace, (o) => labels(o) && fields(o));
    const resourceVersion = String(this.store.currentRv());
    const token = query.get("continue");
    let offset = 0;
    if (token !== null && token !== "") {
      try {
        offset = (JSON.parse(Buffer.from(token, "base64").toString()) as { offset: number }).offset;
      } catch {
        throw badRequest(`continue key is not valid: ${token}`);
      }
    }
    const limit = Number(query.get("limit") ?? "0");
    items = items.slice(offset);
    if (limit > 0 && items.length > limit) {
      const next = Buffer.from(JSON.stringify({ offset: offset + limit })).toString("base64");
      return { items: items.slice(0, limit), resourceVersion, continue: next };
    }
    return { items, resourceVersion };
  }

  replace(route: Route, body: unknown, query: URLSearchParams, warnings: string[] = []): KubeObject {
    const object = asObject(body);
    const current = this.get(route);
    if (object.metadata?.name !== undefined && object.metadata.name !== route.name) {
      throw badRequest(
        `the name of the object (${object.metadata.name}) does not match the name on the URL (${route.name})`,
      );
    }
    return this.write(route, current, object, object.metadata?.resourceVersion, query, warnings);
  }

  patch(
    route: Route,
    body: unknown,
    contentType: string,
    query: URLSearchParams,
    warnings: string[] = [],
  ): KubeObject {
    const current = this.get(route);
    const patched = asObject(applyPatch(current, contentType, body));
    const patchRv = (body as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
    return this.write(
      route,
      current,
      patched,
      typeof patchRv === "string" ? patchRv : undefined,
      query,
      warnings,
    );
  }

  /** Writes a changed object: status only through /status, the rest only through the main resource. */
  private write(
    route: Route,
    current: KubeObject,
    next: KubeObject,
    expectedRv: string | undefined,
    query: URLSearchParams,
    warnings: string[],
  ): KubeObject {
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    // The writer's metadata, but identity, creation and deletion stay the server's.
    next.metadata = { ...(next.metadata ?? {}), name: current.metadata.name, uid: current.metadata.uid };
    next.metadata.creationTimestamp = current.metadata.creationTimestamp;
    for (const field of ["deletionTimestamp", "deletionGracePeriodSeconds", "generation"] as const) {
      if (current.metadata[field] === undefined) delete next.metadata[field];
      else (next.metadata as unknown as Record<string, unknown>)[field] = current.metadata[field];
    }
    if (current.metadata.namespace !== undefined) next.metadata.namespace = current.metadata.namespace;
    if (route.subresource === "status") {
      const merged = { ...current, status: next.status };
      return this.store.update(route.resource, merged, expectedRv, route.group);
    }
    if (route.subresource !== undefined)
      throw notFound(`${route.resource}/${route.subresource}`, route.name!, route.group);
    if ("status" in current) next.status = current.status;
    if (route.resource === "pods") checkPodUpdate(current, next);
    if (route.resource === "secrets") defaultSecret(next);
    if (
      route.resource === "sparkapplications" &&
      JSON.stringify(next.spec) !== JSON.stringify(current.spec)
    ) {
      next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    warnings.push(...checkFields(route.resource, next, query.get("fieldValidation")));
    validateObject(route.resource, next);
    this.hooks.validate?.(route.resource, next);
    return this.store.update(route.resource, next, expectedRv, route.group);
  }

  /**
   * Deletes one object. A Pod with running containers gets a deletionTimestamp and stays until
   * they stop (the runtime removes it); everything else goes at once. Dependents are collected.
   */
  delete(route: Route, query: URLSearchParams, body: unknown): { code: number; body: unknown } {
    const current = this.get(route);
    const options = (body ?? {}) as {
      gracePeriodSeconds?: number;
      propagationPolicy?: string;
      preconditions?: { uid?: string; resourceVersion?: string };
    };
    if (options.preconditions?.uid !== undefined && options.preconditions.uid !== current.metadata.uid) {
      throw new ApiError(
        409,
        "Conflict",
        `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    const orphan = (query.get("propagationPolicy") ?? options.propagationPolicy) === "Orphan";
    if (route.resource === "pods") {
      const spec = current.spec as { terminationGracePeriodSeconds?: number };
      const graceText = query.get("gracePeriodSeconds");
      const grace =
        graceText !== null
          ? Number(graceText)
          : (options.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30);
      const marked =
        current.metadata.deletionTimestamp !== undefined
          ? current
          : this.store.update("pods", {
              ...current,
              metadata: {
                ...current.metadata,
                deletionTimestamp: nowSeconds(),
                deletionGracePeriodSeconds: grace,
              },
            });
      if (this.runtime.terminate(current.metadata.namespace!, current.metadata.name, grace)) {
        // The runtime removes it once its processes stop; callers get the object as it was marked.
        return { code: 200, body: this.store.get("pods", route.namespace, route.name!) ?? marked };
      }
      // No node runs it (never admitted): nothing to wait for.
      const gone = this.store.remove("pods", route.namespace, route.name!);
      this.collect(gone);
      return { code: 200, body: marked };
    }
    if (route.resource === "namespaces") this.emptyNamespace(route.name!);
    const removed = this.store.remove(route.resource, route.namespace, route.name!, route.group);
    if (!orphan) this.collect(removed);
    return {
      code: 200,
      body:
        route.resource === "sparkapplications"
          ? removed
          : statusObject(200, "", "", {
              name: removed.metadata.name,
              kind: route.resource,
              ...(route.group === "" ? {} : { group: route.group }),
            }),
    };
  }

  deleteCollection(route: Route, query: URLSearchParams, body: unknown): { code: number; body: unknown } {
    const { items, resourceVersion } = this.list(route, query);
    for (const item of items)
      this.delete({ ...route, namespace: item.metadata.namespace!, name: item.metadata.name }, query, body);
    return {
      code: 200,
      body: {
        kind: `${kindOf(route.resource).kind}List`,
        apiVersion: kindOf(route.resource).apiVersion,
        metadata: { resourceVersion },
        items,
      },
    };
  }

  /** Garbage collection: objects whose ownerReferences name a deleted object go too (background). */
  collect(owner: KubeObject): void {
    const resources: Resource[] = ["pods", "secrets", "configmaps", "sparkapplications"];
    for (const resource of resources) {
      const owned = (o: KubeObject) =>
        (o.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid);
      for (const o of this.store.list(resource, owner.metadata.namespace, owned)) {
        try {
          this.delete(
            {
              resource,
              group: groupOf(resource),
              namespace: o.metadata.namespace!,
              name: o.metadata.name,
            },
            new URLSearchParams(),
            {},
          );
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
  }

  /** Deleting a namespace deletes what it holds (at once here; a real one is Terminating meanwhile). */
  private emptyNamespace(namespace: string): void {
    for (const resource of ["sparkapplications", "pods", "secrets", "configmaps", "events"] as const) {
      for (const o of this.store.list(resource, namespace)) {
        try {
          this.delete(
            { resource, group: groupOf(resource), namespace, name: o.metadata.name },
            new URLSearchParams(),
            {},
          );
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
  }

  ensureNamespace(name: string): void {
    if (this.store.get("namespaces", undefined, name) !== undefined) return;
    this.store.create("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        uid: "",
        resourceVersion: "",
        creationTimestamp: "",
        labels: { "kubernetes.io/metadata.name": name },
      },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  }
}

function groupOf(resource: Resource): string {
  const apiVersion = kindOf(resource).apiVersion;
  return apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
}

function asObject(body: unknown): KubeObject {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw badRequest("the request body must be a JSON object");
  return body as KubeObject;
}
