// A DAG's asset condition (decision 0031) as the serialized DAG holds it, with no SDK object:
// the URIs it names, and its evaluation against the assets that were updated.
import type { AssetConditionJson } from "../common/asset-uri.js";

export {
  normalizeAssetUri,
  MAX_ASSET_URI_LENGTH,
  type AssetConditionJson,
  type AssetRef,
} from "../common/asset-uri.js";

/** Every asset URI a condition names, once each, in order of appearance. */
export function conditionUris(condition: AssetConditionJson): string[] {
  const out = new Set<string>();
  const walk = (c: AssetConditionJson): void => {
    if (c.type === "asset") out.add(c.uri);
    else c.objects.forEach(walk);
  };
  walk(condition);
  return [...out];
}

/** Whether the condition holds when the assets in `updated` (normalised URIs) were updated. */
export function evaluateAssetCondition(condition: AssetConditionJson, updated: ReadonlySet<string>): boolean {
  switch (condition.type) {
    case "asset":
      return updated.has(condition.uri);
    case "all":
      return condition.objects.every((c) => evaluateAssetCondition(c, updated));
    case "any":
      return condition.objects.some((c) => evaluateAssetCondition(c, updated));
  }
}

/** A readable form of a condition, e.g. `s3://a & (s3://b | s3://c)`, for timetable summaries. */
export function describeAssetCondition(condition: AssetConditionJson, nested = false): string {
  if (condition.type === "asset") return condition.uri;
  const text = condition.objects
    .map((c) => describeAssetCondition(c, true))
    .join(condition.type === "all" ? " & " : " | ");
  return nested && condition.objects.length > 1 ? `(${text})` : text;
}

/**
 * A schedule in words as `updraft dags list` and the API's timetable_description show it: the time
 * schedule, the asset condition (`Asset: a & b`), both (`Asset: a or @daily`), or null for none.
 */
export function describeSchedule(
  time: string | number | null,
  condition: AssetConditionJson | undefined | null,
): string | null {
  const when = time === null ? null : String(time);
  if (condition === undefined || condition === null) return when;
  const assets = `Asset: ${describeAssetCondition(condition)}`;
  return when === null ? assets : `${assets} or ${when}`;
}
