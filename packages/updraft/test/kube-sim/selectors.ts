/** Label and field selectors, with the API server's syntax and its 400 for what it cannot parse. */
import { badRequest } from "./status.js";
import type { KubeObject, Resource } from "./types.js";

type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!" };

export type Matcher = (object: KubeObject) => boolean;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; an empty selector matches everything. */
export function labelSelector(text: string | null | undefined): Matcher {
  if (text === null || text === undefined || text.trim() === "") return () => true;
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => matches(r, labels));
  };
}

function matches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case "=":
      return has && value === r.value;
    case "!=":
      return !has || value !== r.value;
    case "in":
      return has && r.values.includes(value!);
    case "notin":
      return !has || !r.values.includes(value!);
    case "exists":
      return has;
    case "!":
      return !has;
  }
}

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function parseRequirement(raw: string): Requirement {
  const text = raw.trim();
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why}: ${JSON.stringify(text)}`);
  let m = /^!\s*(\S+)$/.exec(text);
  if (m !== null) return { key: checkKey(m[1]!, fail), op: "!" };
  m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (m !== null) {
    const values = m[3]!.split(",").map((v) => checkValue(v.trim(), fail));
    return { key: checkKey(m[1]!, fail), op: m[2] as "in" | "notin", values };
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (m !== null) {
    const op = m[2] === "!=" ? "!=" : "=";
    return { key: checkKey(m[1]!, fail), op, value: checkValue(m[3]!, fail) };
  }
  if (/^\S+$/.test(text)) return { key: checkKey(text, fail), op: "exists" };
  throw fail("found unexpected token");
}

function checkKey(k: string, fail: (why: string) => Error): string {
  if (!KEY.test(k) || k.length > 316) throw fail(`invalid label key ${JSON.stringify(k)}`);
  return k;
}

function checkValue(v: string, fail: (why: string) => Error): string {
  if (v.length > 63 || !VALUE.test(v)) throw fail(`invalid label value ${JSON.stringify(v)}`);
  return v;
}

/** Splits at commas outside parentheses: `a in (x,y),b` is two requirements. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim() !== "");
}

/** The field selectors each resource supports (the API server rejects any other field). */
const FIELDS: Record<Resource, readonly string[]> = {
  pods: [
    "metadata.name",
    "metadata.namespace",
    "status.phase",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  secrets: ["metadata.name", "metadata.namespace", "type"],
  configmaps: ["metadata.name", "metadata.namespace"],
  namespaces: ["metadata.name", "status.phase"],
  events: [
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  sparkapplications: ["metadata.name", "metadata.namespace"],
};

/** Parses `metadata.name=x,status.phase!=Running`; a field the resource lacks is a 400. */
export function fieldSelector(resource: Resource, text: string | null | undefined): Matcher {
  if (text === null || text === undefined || text.trim() === "") return () => true;
  const terms = text.split(",").map((raw) => {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (m === null) throw badRequest(`invalid selector: '${text}'; can't understand '${raw}'`);
    const field = m[1]!;
    if (!FIELDS[resource].includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    return { field, negate: m[2] === "!=", value: m[3]! };
  });
  return (object) =>
    terms.every((t) => {
      const actual = fieldValue(object, t.field);
      return t.negate ? actual !== t.value : actual === t.value;
    });
}

function fieldValue(object: KubeObject, path: string): string {
  if (path === "source") {
    const source = object.source as { component?: string } | undefined;
    return source?.component ?? "";
  }
  let at: unknown = object;
  for (const part of path.split(".")) {
    if (at === null || typeof at !== "object") return "";
    at = (at as Record<string, unknown>)[part];
  }
  return at === undefined || at === null ? "" : String(at);
}
