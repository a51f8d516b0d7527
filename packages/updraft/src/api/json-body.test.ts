import { describe, expect, it } from "vitest";
import { jsonNestsDeeperThan } from "./json-body.js";

describe("jsonNestsDeeperThan", () => {
  it("counts objects and arrays, the body itself as level 1", () => {
    expect(jsonNestsDeeperThan("1", 0)).toBe(false);
    expect(jsonNestsDeeperThan("{}", 0)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":[1,{"b":[]}]}', 4)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":[1,{"b":[]}]}', 3)).toBe(true);
    expect(jsonNestsDeeperThan("[[],[],[],[]]", 2)).toBe(false);
  });

  it("ignores brackets inside strings, also after escaped quotes and backslashes", () => {
    expect(jsonNestsDeeperThan('["[[[[", "{{{{"]', 1)).toBe(false);
    expect(jsonNestsDeeperThan('["\\"[[[[", "\\\\", "{{"]', 1)).toBe(false);
    expect(jsonNestsDeeperThan('["\\\\", [[]]]', 2)).toBe(true);
    expect(jsonNestsDeeperThan('{"k\\"[": ["\\u005b"]}', 2)).toBe(false);
  });

  it("scans a million levels without recursing", () => {
    expect(jsonNestsDeeperThan(`${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`, 100)).toBe(true);
  });
});
