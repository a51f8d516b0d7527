import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { UpdraftError } from "../../common/errors.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * The REST API's check until users and roles exist: `Authorization: Bearer <apiToken>`, compared
 * in constant time. Without a configured token every request passes (standalone on loopback).
 */
export function apiTokenHook(apiToken: string | undefined) {
  const expected = apiToken === undefined ? null : digest(apiToken);
  return async function checkApiToken(request: FastifyRequest): Promise<void> {
    if (expected === null) return;
    const header = request.headers.authorization ?? "";
    const given = /^Bearer /i.test(header) ? header.slice(7).trim() : null;
    if (given === null || !timingSafeEqual(digest(given), expected)) {
      throw new UpdraftError(
        "UNAUTHORIZED",
        "This route needs `Authorization: Bearer <api token>` with the server's API token.",
      );
    }
  };
}
