import type { FastifyRequest } from "fastify";
import { UpdraftError } from "../../common/errors.js";
import { verifyToken } from "../../common/signed-token.js";
import { TokenClaimsSchema, type TokenClaims } from "../../model/execution-api.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The execution token's claims, set by the execution API's onRequest hook. */
    claims: TokenClaims | null;
  }
}

/** The Bearer token of a request, or UNAUTHORIZED. */
export function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || !/^Bearer /i.test(header)) {
    throw new UpdraftError("UNAUTHORIZED", "This route needs an `Authorization: Bearer <token>` header.");
  }
  return header.slice(7).trim();
}

/**
 * Verifies an execution token (signature, expiry, shape): TOKEN_INVALID or TOKEN_EXPIRED (401).
 * The token itself never appears in a message or a log.
 */
export function verifyExecutionToken(token: string, secretKey: string): TokenClaims {
  const raw = verifyToken(token, secretKey);
  const parsed = TokenClaimsSchema.safeParse(raw);
  if (!parsed.success)
    throw new UpdraftError("TOKEN_INVALID", "The token's claims are not an execution token's.");
  if (parsed.data.exp * 1000 < Date.now()) throw new UpdraftError("TOKEN_EXPIRED", "The token has expired.");
  return parsed.data;
}

/** The claims of a request that passed the hook. */
export function claimsOf(request: FastifyRequest): TokenClaims {
  if (request.claims === null) throw new UpdraftError("UNAUTHORIZED", "This route needs an execution token.");
  return request.claims;
}

/** Claims that may change the task instance: a "task" token (callback tokens only read). */
export function taskClaimsOf(request: FastifyRequest): TokenClaims {
  const claims = claimsOf(request);
  if (claims.scope !== "task") {
    throw new UpdraftError(
      "FORBIDDEN",
      "A callback token may only read; starting, finishing and pushing need the task's token.",
    );
  }
  return claims;
}
