import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { UpdraftError } from "../../common/errors.js";
import type { Principal } from "../auth/access-hook.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * `Authorization: Bearer <apiToken>`, compared in constant time. Without a configured token no
 * request is authenticated: the API never answers without credentials.
 */
export function apiTokenAuthenticator(apiToken: string | undefined) {
  const expected = apiToken === undefined ? null : digest(apiToken);
  return async function checkApiToken(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization ?? "";
    const given = /^Bearer /i.test(header) ? header.slice(7).trim() : null;
    if (expected === null || given === null || !timingSafeEqual(digest(given), expected)) {
      throw new UpdraftError(
        "UNAUTHORIZED",
        "This route needs `Authorization: Bearer <api token>` with the server's API token.",
      );
    }
    return { username: "api-token" };
  };
}
