import { describe, expect, test } from "vitest";
import { signToken, verifyToken } from "./signed-token.js";

describe("signed tokens", () => {
  test("round-trip, tamper and expiry", () => {
    const t = signToken({ a: 1, exp: 2000 }, "s3cret");
    expect(verifyToken(t, "s3cret", 1_000_000)).toEqual({ a: 1, exp: 2000 });
    expect(() => verifyToken(t, "other", 1_000_000)).toThrow(/signature/);
    const [body, sig] = t.split(".");
    const forged = Buffer.from(JSON.stringify({ a: 2, exp: 2000 })).toString("base64url");
    expect(() => verifyToken(`${forged}.${sig}`, "s3cret", 1_000_000)).toThrow(/signature/);
    expect(body).toBeTruthy();
    expect(() => verifyToken(t, "s3cret", 2_000_001)).toThrow(/expired/);
    expect(() => verifyToken("garbage", "s3cret")).toThrow(/malformed/);
  });
});
