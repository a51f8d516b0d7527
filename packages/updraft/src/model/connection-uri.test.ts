// A malformed connection URI is reported without the password it carries (a security review
// found `postgres//alice:PASSWORD@host/db` echoed whole in the CLI's error).
import { describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import { parseConnectionUri } from "./connection-uri.js";

function errorOf(uri: string): string {
  try {
    parseConnectionUri("c", uri);
  } catch (err) {
    if (isUpdraftError(err, "CONNECTION_INVALID")) return err.message;
    throw err;
  }
  throw new Error(`${uri} parsed`);
}

describe("connection URI errors", () => {
  it.each([
    "postgres//alice:S3cretPa55@db.example.com/sales",
    "postgres:/alice:S3cretPa55@db.example.com/sales",
    "alice:S3cretPa55@db.example.com",
    "postgres//alice:S3cret/Pa55@db.example.com/sales",
    "postgres//alice:S3cret@Pa55@db.example.com/sales",
    `postgres//alice:S3cretPa55@${"h".repeat(100)}.example.com/sales`,
  ])("never shows the password of %s", (uri) => {
    const message = errorOf(uri);
    expect(message).toContain("is not a connection URI");
    expect(message).not.toContain("S3cret");
    expect(message).not.toContain("Pa55");
    expect(message).toContain("alice:***@");
  });

  it("still shows the rest, so the user sees what is wrong", () => {
    expect(errorOf("postgres//alice:pw-12345@db/sales")).toContain('"postgres//alice:***@db/sales"');
  });
});
