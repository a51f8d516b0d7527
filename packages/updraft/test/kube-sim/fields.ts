/**
 * Unknown fields, as the API server's decoder finds them: with `fieldValidation=Strict` (what
 * kubectl sends) they are a 400; otherwise they are dropped with a `Warning` header. The field
 * lists come from the official client's models (their attribute maps mirror the OpenAPI schema).
 */
import * as k8s from "@kubernetes/client-node";
import { ApiError } from "./status.js";
import type { KubeObject, Resource } from "./types.js";

const MODELS: Partial<Record<Resource, string>> = {
  pods: "V1Pod",
  secrets: "V1Secret",
  configmaps: "V1ConfigMap",
  namespaces: "V1Namespace",
  events: "CoreV1Event",
};

interface Attribute {
  baseName: string;
  type: string;
}

type Model = { getAttributeTypeMap(): Attribute[] };

function model(type: string): Model | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[type];
  return typeof candidate === "function" && "getAttributeTypeMap" in candidate
    ? (candidate as unknown as Model)
    : undefined;
}

/** Removes the fields the schema does not know from `value` and returns their paths. */
function prune(type: string, value: unknown, path: string, found: string[]): void {
  if (value === null || typeof value !== "object") return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array !== null) {
    if (Array.isArray(value)) value.forEach((v, i) => prune(array[1]!, v, `${path}[${i}]`, found));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map !== null) {
    for (const [k, v] of Object.entries(value)) prune(map[1]!, v, `${path}[${k}]`, found);
    return;
  }
  const m = model(type);
  if (m === undefined || Array.isArray(value)) return;
  const attributes = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const child = path === "" ? key : `${path}.${key}`;
    const attrType = attributes.get(key);
    if (attrType === undefined) {
      found.push(child);
      delete record[key];
    } else {
      prune(attrType, record[key], child, found);
    }
  }
}

/**
 * Applies the request's field validation to an object about to be stored: Strict → 400 on an
 * unknown field; Warn (the default) and Ignore → dropped, with warnings returned for Warn.
 */
export function checkFields(resource: Resource, object: KubeObject, mode: string | null): string[] {
  const type = MODELS[resource];
  if (type === undefined) return [];
  const found: string[] = [];
  prune(type, object, "", found);
  if (found.length === 0) return [];
  const described = found.map((f) => `unknown field "${f}"`);
  if (mode === "Strict") {
    throw new ApiError(
      400,
      "BadRequest",
      `${object.kind} in version "v1" cannot be handled as a ${object.kind}: strict decoding error: ${described.join(", ")}`,
    );
  }
  return mode === "Ignore" ? [] : described;
}
