// Assets (Airflow 3's assets, Airflow 2's datasets; decision 0031): a task names the data it
// updates in `outlets`, a DAG is scheduled on updates of assets with `schedule: [a, b]` (all),
// `schedule: or(a, and(b, c))`, or `{ timetable, assets }` (either the time or the assets).
import { UpdraftError } from "../common/errors.js";
import { normalizeAssetUri, type AssetConditionJson, type AssetRef } from "../common/asset-uri.js";

export interface AssetOptions {
  /** A readable name. Default: the URI. */
  name?: string;
  /** A group shown in the UI. Default `"asset"`. */
  group?: string;
  /** Free-form JSON facts about the asset, stored with it. */
  extra?: Record<string, unknown>;
}

/** Data a task updates or a DAG waits on, named by a URI. Build it with {@link asset}. */
export class Asset {
  readonly kind = "asset" as const;
  /** The URI, normalised (lowercase scheme and host). */
  readonly uri: string;
  readonly name: string;
  readonly group: string;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(uri: string, options: AssetOptions = {}) {
    this.uri = normalizeAssetUri(uri);
    if (typeof options !== "object" || options === null)
      throw new UpdraftError("ASSET_INVALID", `asset("${this.uri}", options): options must be an object.`);
    const { name, group, extra } = options;
    if (name !== undefined && (typeof name !== "string" || name.trim() === ""))
      throw new UpdraftError("ASSET_INVALID", `asset("${this.uri}"): name must be a non-empty string.`);
    if (group !== undefined && (typeof group !== "string" || group.trim() === ""))
      throw new UpdraftError("ASSET_INVALID", `asset("${this.uri}"): group must be a non-empty string.`);
    if (extra !== undefined && (typeof extra !== "object" || extra === null || Array.isArray(extra)))
      throw new UpdraftError(
        "ASSET_INVALID",
        `asset("${this.uri}"): extra must be a plain object of JSON values.`,
      );
    this.name = name ?? this.uri;
    this.group = group ?? "asset";
    this.extra = extra ?? {};
  }

  /** @internal */
  toRef(): AssetRef {
    return { uri: this.uri, name: this.name, group: this.group, extra: { ...this.extra } };
  }
}

/** A condition over assets: every one updated ({@link assetAll}) or any one ({@link assetAny}). */
export class AssetBoolean {
  constructor(
    readonly kind: "all" | "any",
    readonly objects: readonly AssetCondition[],
  ) {}
}

/** One asset, or an `and`/`or` of conditions. */
export type AssetCondition = Asset | AssetBoolean;

/** Runs when the assets are updated or when the timetable says (Airflow's AssetOrTimeSchedule). */
export interface AssetOrTimeSchedule {
  /** A cron expression, preset or duration, as `schedule` takes it. */
  timetable: string | number;
  assets: readonly Asset[] | AssetCondition;
}

/** What `schedule` takes besides a time: a list (all must update), a condition, or assets-or-time. */
export type AssetSchedule = readonly Asset[] | AssetCondition | AssetOrTimeSchedule;

/**
 * Declares an asset. The URI needs a scheme; its scheme and host are lowercased.
 *
 * @example
 * ```ts
 * const orders = asset("s3://warehouse/orders.parquet", { group: "sales" });
 * ```
 */
export function asset(uri: string, options?: AssetOptions): Asset {
  return new Asset(uri, options);
}

function boolean(kind: "all" | "any", name: string, items: readonly AssetCondition[]): AssetBoolean {
  if (items.length === 0)
    throw new UpdraftError(
      "ASSET_INVALID",
      `${name}() needs at least one asset or condition, e.g. ${name}(a, b).`,
    );
  items.forEach((item, i) => {
    if (!isAssetCondition(item))
      throw new UpdraftError(
        "ASSET_INVALID",
        `${name}(): argument ${i + 1} is not an asset or condition; build assets with asset("scheme://...").`,
      );
  });
  return new AssetBoolean(kind, [...items]);
}

/** True when every one of the assets or conditions was updated (Airflow's `&`, AssetAll). */
export function assetAll(...items: AssetCondition[]): AssetBoolean {
  return boolean("all", "and", items);
}

/** True when any one of the assets or conditions was updated (Airflow's `|`, AssetAny). */
export function assetAny(...items: AssetCondition[]): AssetBoolean {
  return boolean("any", "or", items);
}

export { assetAll as and, assetAny as or };

export function isAsset(value: unknown): value is Asset {
  return value instanceof Asset;
}

export function isAssetCondition(value: unknown): value is AssetCondition {
  return value instanceof Asset || value instanceof AssetBoolean;
}

/** @internal The JSON form of a condition. */
export function conditionJson(c: AssetCondition): AssetConditionJson {
  if (c instanceof Asset) return { type: "asset", uri: c.uri };
  return { type: c.kind, objects: c.objects.map(conditionJson) };
}

/** @internal Every asset a condition names (first definition of each URI wins). */
export function conditionAssets(c: AssetCondition, into = new Map<string, Asset>()): Map<string, Asset> {
  if (c instanceof Asset) {
    if (!into.has(c.uri)) into.set(c.uri, c);
  } else c.objects.forEach((o) => conditionAssets(o, into));
  return into;
}

/** The parts of a DAG's `schedule`: its time schedule and its asset condition (either may be null). */
export interface SplitSchedule {
  time: string | number | null;
  condition: AssetCondition | null;
}

/** @internal Splits a DAG's `schedule` option into its time part and its asset part. */
export function splitSchedule(schedule: unknown, dagId: string): SplitSchedule {
  if (schedule === undefined || schedule === null) return { time: null, condition: null };
  if (typeof schedule === "string" || typeof schedule === "number")
    return { time: schedule, condition: null };
  if (Array.isArray(schedule)) return { time: null, condition: listCondition(schedule, dagId) };
  if (isAssetCondition(schedule)) return { time: null, condition: schedule };
  if (typeof schedule === "object" && "assets" in schedule && "timetable" in schedule) {
    const s = schedule as AssetOrTimeSchedule;
    if (typeof s.timetable !== "string" && typeof s.timetable !== "number")
      throw new UpdraftError(
        "ASSET_INVALID",
        `DAG "${dagId}": schedule.timetable must be a cron expression, preset or duration, e.g. { timetable: "0 * * * *", assets: [orders] }.`,
      );
    const assets: unknown = s.assets;
    const condition = Array.isArray(assets) ? listCondition(assets, dagId) : assets;
    if (!isAssetCondition(condition))
      throw new UpdraftError(
        "ASSET_INVALID",
        `DAG "${dagId}": schedule.assets must be a list of assets or an and()/or() condition.`,
      );
    return { time: s.timetable, condition };
  }
  throw new UpdraftError(
    "ASSET_INVALID",
    `DAG "${dagId}": schedule must be a cron expression, preset, duration, null, a list of assets, an and()/or() condition, or { timetable, assets }.`,
  );
}

/** Airflow's list schedule: every asset of the list must be updated. */
function listCondition(list: readonly unknown[], dagId: string): AssetCondition {
  if (list.length === 0)
    throw new UpdraftError(
      "ASSET_INVALID",
      `DAG "${dagId}": schedule is an empty list of assets. Name at least one asset, or use schedule: null for manual runs only.`,
    );
  list.forEach((item, i) => {
    if (!isAssetCondition(item))
      throw new UpdraftError(
        "ASSET_INVALID",
        `DAG "${dagId}": schedule item ${i + 1} is not an asset; build assets with asset("scheme://...").`,
      );
  });
  return list.length === 1 ? (list[0] as AssetCondition) : new AssetBoolean("all", list as AssetCondition[]);
}

/** @internal Checks a task's `outlets`/`inlets` option: a list of assets. */
export function assetList(value: unknown, where: string): Asset[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isAsset))
    throw new UpdraftError(
      "ASSET_INVALID",
      `${where} must be a list of assets, e.g. outlets: [asset("s3://bucket/orders.parquet")].`,
    );
  return value;
}
