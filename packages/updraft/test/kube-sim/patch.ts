/** The three patch types the API server takes: JSON patch, merge patch and strategic merge patch. */
import { ApiError, badRequest } from "./status.js";

type Json = unknown;

export function applyPatch(target: Json, contentType: string, patch: Json): Json {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  switch (type) {
    case "application/json-patch+json":
      if (!Array.isArray(patch)) throw badRequest("json patch must be a list of operations");
      return jsonPatch(target, patch as Operation[]);
    case "application/merge-patch+json":
      return mergePatch(target, patch, false);
    case "application/strategic-merge-patch+json":
      return mergePatch(target, patch, true);
    default:
      throw new ApiError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
  }
}

interface Operation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: Json;
  from?: string;
}

function jsonPatch(target: Json, ops: Operation[]): Json {
  let doc = structuredClone(target);
  for (const op of ops) {
    switch (op.op) {
      case "add":
        doc = put(doc, op.path, structuredClone(op.value), "add");
        break;
      case "replace":
        get(doc, op.path);
        doc = put(doc, op.path, structuredClone(op.value), "replace");
        break;
      case "remove":
        doc = del(doc, op.path);
        break;
      case "move": {
        const value = get(doc, op.from ?? "");
        doc = put(del(doc, op.from ?? ""), op.path, value, "add");
        break;
      }
      case "copy":
        doc = put(doc, op.path, structuredClone(get(doc, op.from ?? "")), "add");
        break;
      case "test":
        if (JSON.stringify(get(doc, op.path)) !== JSON.stringify(op.value)) {
          throw new ApiError(
            422,
            "Invalid",
            `the server rejected our request due to an error in our request: testing value ${op.path} failed`,
          );
        }
        break;
      default:
        throw badRequest(`unexpected kind of patch operation: ${JSON.stringify((op as { op: unknown }).op)}`);
    }
  }
  return doc;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function get(doc: Json, path: string): Json {
  let at: Json = doc;
  for (const part of pointer(path)) {
    if (at === null || typeof at !== "object" || !(part in (at as object))) {
      throw new ApiError(
        422,
        "Invalid",
        `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
      );
    }
    at = (at as Record<string, Json>)[part];
  }
  return at;
}

function put(doc: Json, path: string, value: Json, mode: "add" | "replace"): Json {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const last = parts.pop()!;
  const parent = get(
    doc,
    "/" +
      parts
        .map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1"))
        .join("/")
        .replace(/^\/$/, ""),
  );
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (mode === "add") parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (parent !== null && typeof parent === "object") {
    (parent as Record<string, Json>)[last] = value;
  } else {
    throw new ApiError(
      422,
      "Invalid",
      `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
    );
  }
  return doc;
}

function del(doc: Json, path: string): Json {
  const parts = pointer(path);
  const last = parts.pop()!;
  const parent = get(doc, parts.length === 0 ? "" : "/" + parts.join("/"));
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (parent !== null && typeof parent === "object" && last in parent)
    delete (parent as Record<string, Json>)[last];
  else
    throw new ApiError(
      422,
      "Invalid",
      `the server rejected our request due to an error in our request: doc is missing path: "${path}"`,
    );
  return doc;
}

/** Lists a strategic merge patch merges by key instead of replacing (the common ones of a Pod). */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
  conditions: "type",
  ownerReferences: "uid",
};

function mergePatch(target: Json, patch: Json, strategic: boolean, field?: string): Json {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
    if (
      strategic &&
      Array.isArray(patch) &&
      Array.isArray(target) &&
      field !== undefined &&
      MERGE_KEYS[field] !== undefined
    ) {
      return mergeList(target, patch, MERGE_KEYS[field]);
    }
    return structuredClone(patch);
  }
  const out: Record<string, Json> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? structuredClone(target as Record<string, Json>)
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, Json>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v, strategic, k);
  }
  return out;
}

function mergeList(target: Json[], patch: Json[], mergeKey: string): Json[] {
  const out = structuredClone(target) as Record<string, Json>[];
  for (const item of patch as Record<string, Json>[]) {
    const at = out.findIndex((o) => o[mergeKey] === item[mergeKey]);
    if (item.$patch === "delete") {
      if (at >= 0) out.splice(at, 1);
    } else if (at >= 0) {
      out[at] = mergePatch(out[at], item, true) as Record<string, Json>;
    } else {
      out.push(item);
    }
  }
  return out;
}
