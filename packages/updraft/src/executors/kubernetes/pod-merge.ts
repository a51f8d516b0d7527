// How a task's `executorConfig.podOverride` lands on the worker Pod template (decision 0023).
// Airflow merges containers by position and replaces a container's `resources` as a whole, so an
// override that adds a GPU limit silently drops the template's memory request, and an override of
// an init container adds a second one with the same name (apache/airflow#46373, #61074). Here
// everything named is merged by its name, and maps are merged key by key:
//
// - objects merge recursively; the override's value wins; `null` in the override removes the key
//   (as in a JSON merge patch), so `resources.limits["nvidia.com/gpu"]` adds one limit and keeps
//   the others, and `nodeSelector: { pool: null }` drops the template's `pool`;
// - containers, initContainers and ephemeralContainers merge by `name` (recursively: an override
//   of `base` that sets only `image` keeps the template's env, mounts and resources); a name the
//   template lacks is appended (a sidecar);
// - lists of named things merge by their key, the override's item replacing the template's whole
//   (an env var set by `value` must not keep the template's `valueFrom`): env and volumes by
//   name, volumeMounts by mountPath, ports by containerPort/protocol, tolerations by
//   key/operator/value/effect, imagePullSecrets by name, envFrom by its content, and so on; new
//   items are appended after the template's, in the override's order;
// - any other list (command, args, affinity's nodeSelectorTerms) and every scalar is replaced.
import type { V1Container, V1ObjectMeta, V1Pod, V1PodSpec } from "@kubernetes/client-node";

/** A task's podOverride: any part of a Pod; a container without a name is `base`. */
export interface PodOverride {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: Partial<Omit<V1PodSpec, "containers">> & { containers?: Partial<V1Container>[] };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** How the items of a list field are identified; `merge` says whether a matched item merges or is replaced. */
interface ListRule {
  key: (item: JsonObject) => string | undefined;
  merge: boolean;
}

const byField = (field: string) => (item: JsonObject) => {
  const v = item[field];
  return typeof v === "string" ? v : undefined;
};
const byContent = (item: JsonObject) => stableJson(item);

const LIST_RULES: Record<string, ListRule> = {
  containers: { key: byField("name"), merge: true },
  initContainers: { key: byField("name"), merge: true },
  ephemeralContainers: { key: byField("name"), merge: true },
  env: { key: byField("name"), merge: false },
  envFrom: { key: byContent, merge: false },
  volumes: { key: byField("name"), merge: false },
  volumeMounts: { key: byField("mountPath"), merge: false },
  volumeDevices: { key: byField("devicePath"), merge: false },
  ports: {
    key: (p) =>
      p["containerPort"] === undefined
        ? undefined
        : `${String(p["containerPort"])}/${String(p["protocol"] ?? "TCP")}`,
    merge: false,
  },
  tolerations: {
    key: (t) =>
      [t["key"] ?? "", t["operator"] ?? "Equal", t["value"] ?? "", t["effect"] ?? ""].map(String).join("|"),
    merge: false,
  },
  imagePullSecrets: { key: byField("name"), merge: false },
  hostAliases: { key: byField("ip"), merge: false },
  readinessGates: { key: byField("conditionType"), merge: false },
  resourceClaims: { key: byField("name"), merge: false },
  topologySpreadConstraints: {
    key: (c) => `${String(c["topologyKey"] ?? "")}|${String(c["whenUnsatisfiable"] ?? "")}`,
    merge: false,
  },
};

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** A deep copy without `null`s inside objects (a merge patch's deletions applied to nothing). */
function clean(v: Json): Json {
  if (Array.isArray(v)) return v.map(clean);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = clean(x);
  return out;
}

function mergeList(field: string, base: Json[], over: Json[]): Json[] {
  const rule = LIST_RULES[field];
  if (rule === undefined) return over.map(clean);
  const out = base.map((b) => clean(b));
  const index = new Map<string, number>();
  out.forEach((item, i) => {
    const k = isObject(item) ? rule.key(item) : undefined;
    if (k !== undefined && !index.has(k)) index.set(k, i);
  });
  for (const item of over) {
    const k = isObject(item) ? rule.key(item) : undefined;
    const at = k === undefined ? undefined : index.get(k);
    if (at === undefined) {
      if (k !== undefined) index.set(k, out.length);
      out.push(clean(item));
    } else {
      out[at] = rule.merge ? mergeValue(out[at] as Json, item) : clean(item);
    }
  }
  return out;
}

function mergeValue(base: Json, over: Json, field = ""): Json {
  if (isObject(base) && isObject(over)) {
    const out: JsonObject = { ...base };
    for (const [k, v] of Object.entries(over)) {
      if (v === null || v === undefined) delete out[k];
      else if (k in out) out[k] = mergeValue(out[k] as Json, v, k);
      else out[k] = clean(v);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) return mergeList(field, base, over);
  return clean(over);
}

/**
 * The template with the override merged onto it (see the rules above). Neither argument changes.
 * An unnamed container in the override is the `base` container when it is the override's only or
 * first unnamed one (what users of Airflow's positional merge write).
 */
export function mergePod(template: V1Pod, override: PodOverride | undefined): V1Pod {
  const base = clean(toJson(template)) as JsonObject;
  if (override === undefined) return base as V1Pod;
  const over = toJson(override) as JsonObject;
  const spec = over["spec"];
  if (isObject(spec) && Array.isArray(spec["containers"])) {
    let named = false;
    spec["containers"] = spec["containers"].map((c) => {
      if (isObject(c) && c["name"] === undefined && !named) {
        named = true;
        return { ...c, name: "base" };
      }
      return c;
    });
  }
  return mergeValue(base, over) as V1Pod;
}

/** Plain JSON of an object (a client model or parsed YAML), so that merging sees only data. */
function toJson(v: unknown): Json {
  return JSON.parse(JSON.stringify(v ?? {})) as Json;
}
