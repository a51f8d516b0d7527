import { describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import {
  conditionUris,
  describeAssetCondition,
  describeSchedule,
  evaluateAssetCondition,
  normalizeAssetUri,
  type AssetConditionJson,
} from "./asset-condition.js";

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isUpdraftError(err) ? err.code : "other";
  }
  return undefined;
}

describe("normalizeAssetUri", () => {
  it("lowercases the scheme and the host, keeps the path's case", () => {
    expect(normalizeAssetUri("S3://My-Bucket/Orders/Day=1.parquet")).toBe(
      "s3://my-bucket/Orders/Day=1.parquet",
    );
    expect(normalizeAssetUri("Postgres://DB.example.com:5432/Sales/Orders")).toBe(
      "postgres://db.example.com:5432/Sales/Orders",
    );
  });

  it("keeps file URIs with an empty host and drops an empty query or fragment marker", () => {
    expect(normalizeAssetUri("file:///data/Orders.csv")).toBe("file:///data/Orders.csv");
    expect(normalizeAssetUri("s3://b/k?")).toBe("s3://b/k");
    expect(normalizeAssetUri("s3://b/k#")).toBe("s3://b/k");
    expect(normalizeAssetUri("s3://b/k?v=1")).toBe("s3://b/k?v=1");
  });

  it.each([
    ["", "empty"],
    ["orders.parquet", "no scheme"],
    ["/data/orders.csv", "no scheme"],
    ["s3://bucket/my orders", "whitespace"],
    ["s3://bucket/\tx", "whitespace"],
    ["s3://bucket/ordérs", "non-ASCII"],
    ["airflow://dag/x", "reserved"],
    ["Updraft://x", "reserved"],
    ["postgres://user:secret@db/x", "credentials"],
    ["s3://", "nothing after the scheme"],
    [`s3://b/${"x".repeat(1500)}`, "too long"],
  ])("refuses %j (%s) with ASSET_URI_INVALID and says what to write", (uri) => {
    expect(code(() => normalizeAssetUri(uri))).toBe("ASSET_URI_INVALID");
    expect(() => normalizeAssetUri(uri)).toThrow(/asset\("s3:\/\/bucket\/orders\.parquet"\)/);
  });

  it("refuses a value that is not a string", () => {
    expect(code(() => normalizeAssetUri(42))).toBe("ASSET_URI_INVALID");
  });
});

describe("evaluateAssetCondition", () => {
  const a: AssetConditionJson = { type: "asset", uri: "s3://b/a" };
  const b: AssetConditionJson = { type: "asset", uri: "s3://b/b" };
  const c: AssetConditionJson = { type: "asset", uri: "s3://b/c" };
  // or(a, and(b, c))
  const nested: AssetConditionJson = { type: "any", objects: [a, { type: "all", objects: [b, c] }] };

  it("needs every asset of an and", () => {
    const all: AssetConditionJson = { type: "all", objects: [a, b] };
    expect(evaluateAssetCondition(all, new Set(["s3://b/a"]))).toBe(false);
    expect(evaluateAssetCondition(all, new Set(["s3://b/a", "s3://b/b"]))).toBe(true);
  });

  it("needs one asset of an or", () => {
    const any: AssetConditionJson = { type: "any", objects: [a, b] };
    expect(evaluateAssetCondition(any, new Set())).toBe(false);
    expect(evaluateAssetCondition(any, new Set(["s3://b/b"]))).toBe(true);
  });

  it("nests: or(a, and(b, c))", () => {
    expect(evaluateAssetCondition(nested, new Set(["s3://b/a"]))).toBe(true);
    expect(evaluateAssetCondition(nested, new Set(["s3://b/b"]))).toBe(false);
    expect(evaluateAssetCondition(nested, new Set(["s3://b/b", "s3://b/c"]))).toBe(true);
    expect(evaluateAssetCondition(nested, new Set(["s3://b/c", "s3://b/other"]))).toBe(false);
  });

  it("names each URI once and describes the condition", () => {
    expect(conditionUris({ type: "all", objects: [nested, a] })).toEqual([
      "s3://b/a",
      "s3://b/b",
      "s3://b/c",
    ]);
    expect(describeAssetCondition(nested)).toBe("s3://b/a | (s3://b/b & s3://b/c)");
  });
});

describe("describeSchedule", () => {
  const orders: AssetConditionJson = { type: "asset", uri: "postgres://warehouse/public/orders" };
  it("names the assets as `updraft dags list` does, with the time schedule when there is one", () => {
    expect(describeSchedule(null, orders)).toBe("Asset: postgres://warehouse/public/orders");
    expect(describeSchedule("@daily", orders)).toBe("Asset: postgres://warehouse/public/orders or @daily");
    expect(describeSchedule("0 6 * * *", undefined)).toBe("0 6 * * *");
    expect(describeSchedule(null, null)).toBeNull();
  });
});
