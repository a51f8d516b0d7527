import { createHmac, timingSafeEqual } from "node:crypto";
import { UpdraftError } from "./errors.js";

/**
 * Compact signed tokens: `base64url(JSON claims).base64url(HMAC-SHA256)`. Used for execution
 * tokens scoped to one task instance try. The claims are readable, so they never hold secrets.
 */
export function signToken(claims: object, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const sig = createHmac("sha256", secret).update(body).digest("base64url");
  return `${body}.${sig}`;
}

/**
 * Verifies the signature and the `exp` claim (epoch seconds) against `nowMs`, and returns the
 * claims. Throws TOKEN_INVALID or TOKEN_EXPIRED.
 */
export function verifyToken(
  token: string,
  secret: string,
  nowMs: number = Date.now(),
): Record<string, unknown> {
  const [body, sig, extra] = token.split(".");
  if (!body || !sig || extra !== undefined)
    throw new UpdraftError("TOKEN_INVALID", "The token is malformed.");
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UpdraftError("TOKEN_INVALID", "The token's signature does not match.");
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw new UpdraftError("TOKEN_INVALID", "The token's claims are not JSON.");
  }
  if (typeof claims !== "object" || claims === null)
    throw new UpdraftError("TOKEN_INVALID", "The token has no claims.");
  const exp = (claims as { exp?: unknown }).exp;
  if (typeof exp === "number" && exp * 1000 < nowMs)
    throw new UpdraftError("TOKEN_EXPIRED", "The token has expired.");
  return claims as Record<string, unknown>;
}
