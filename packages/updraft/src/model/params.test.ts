import { describe, expect, it } from "vitest";
import { UpdraftError } from "../common/errors.js";
import { normalizeParams, resolveParams } from "./params.js";

function errorOf(fn: () => unknown): UpdraftError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpdraftError) return err;
    throw err;
  }
  throw new Error("expected an UpdraftError");
}

describe("normalizeParams", () => {
  it("reads bare values as defaults and objects as specs", () => {
    expect(
      normalizeParams({
        region: "eu",
        dry_run: false,
        tags: ["a"],
        nothing: null,
        limit: { default: 100, type: "integer", maximum: 1000, description: "rows" },
        filters: { default: { country: "DE" } },
      }),
    ).toEqual({
      region: { default: "eu" },
      dry_run: { default: false },
      tags: { default: ["a"] },
      nothing: { default: null },
      limit: { default: 100, type: "integer", maximum: 1000, description: "rows" },
      filters: { default: { country: "DE" } },
    });
  });

  it("names unknown spec keys and malformed keys of every param", () => {
    const err = errorOf(() =>
      normalizeParams({
        limit: { default: 1, maxium: 5 },
        mode: { type: "text" },
        when: { pattern: "(" },
        size: { minLength: -1, minimum: "3" },
      }),
    );
    expect(err.code).toBe("INVALID_PARAM_SPEC");
    expect(err.message).toContain('param "limit": unknown key(s) "maxium"');
    expect(err.message).toContain("write { default: {...} }");
    expect(err.message).toContain('param "mode": type "text" is not one of string, number');
    expect(err.message).toContain('param "when": pattern "(" is not a valid regular expression');
    expect(err.message).toContain('param "size": "minimum" must be a number');
    expect(err.message).toContain('param "size": "minLength" must be an integer ≥ 0');
  });

  it("rejects a default that breaks its own spec", () => {
    const err = errorOf(() => normalizeParams({ limit: { default: 5000, maximum: 1000 } }));
    expect(err.code).toBe("PARAMS_INVALID");
    expect(err.message).toContain('param "limit": 5000 is greater than maximum 1000');
  });

  it("allows a required param (no default)", () => {
    expect(normalizeParams({ table: { type: "string" } })).toEqual({ table: { type: "string" } });
  });
});

describe("resolveParams", () => {
  const specs = normalizeParams({
    limit: { default: 100, type: "integer", minimum: 1, maximum: 1000 },
    region: { default: "eu", enum: ["eu", "us"] },
    table: { type: "string", minLength: 3, maxLength: 10, pattern: "^[a-z_]+$" },
    threshold: { default: null, type: ["number", "null"] },
    options: { default: { a: 1 }, type: "object" },
    ids: { default: [1, 2], type: "array", enum: [[1, 2], [3]] },
  });

  it("takes conf over defaults and passes other conf keys through", () => {
    expect(resolveParams(specs, { table: "sales", limit: 5, threshold: 0.5, extra: { x: 1 } })).toEqual({
      limit: 5,
      region: "eu",
      table: "sales",
      threshold: 0.5,
      options: { a: 1 },
      ids: [1, 2],
      extra: { x: 1 },
    });
  });

  it("lists every violation at once", () => {
    const err = errorOf(() =>
      resolveParams(specs, { limit: 5000, region: "apac", threshold: "high", options: [], ids: [3, 4] }),
    );
    expect(err.code).toBe("PARAMS_INVALID");
    expect(err.message).toContain("6 param values are invalid");
    expect(err.details.violations).toEqual([
      'param "limit": 5000 is greater than maximum 1000',
      'param "region": "apac" is not one of "eu", "us"',
      'param "table": no value given and it has no default; pass "table" in the run\'s conf',
      'param "threshold": "high" is not of type number or null',
      'param "options": [] is not of type object',
      'param "ids": [3,4] is not one of [1,2], [3]',
    ]);
  });

  it.each<[unknown, string]>([
    ["ab", 'param "table": "ab" is shorter than minLength 3'],
    ["abcdefghijk", 'param "table": "abcdefghijk" is longer than maxLength 10'],
    ["Sales", 'param "table": "Sales" does not match pattern "^[a-z_]+$"'],
    [7, 'param "table": 7 is not of type string'],
  ])("checks string constraints: %j", (table, message) => {
    expect(errorOf(() => resolveParams(specs, { table })).details.violations).toEqual([message]);
  });

  it("checks integer and minimum", () => {
    expect(errorOf(() => resolveParams(specs, { table: "tbl", limit: 2.5 })).details.violations).toEqual([
      'param "limit": 2.5 is not of type integer',
    ]);
    expect(errorOf(() => resolveParams(specs, { table: "tbl", limit: 0 })).details.violations).toEqual([
      'param "limit": 0 is less than minimum 1',
    ]);
  });

  it("accepts conf values explicitly set to null when the type allows it", () => {
    expect(resolveParams(specs, { table: "tbl", threshold: null }).threshold).toBeNull();
  });

  it("counts code points for string length", () => {
    const s = normalizeParams({ emoji: { type: "string", maxLength: 2 } });
    expect(resolveParams(s, { emoji: "😀😀" }).emoji).toBe("😀😀");
  });
});
