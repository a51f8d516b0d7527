// ETags on the REST API's GET replies, so that the UI can poll every few seconds and get a bodiless
// 304 while nothing changed. Hand-written rather than @fastify/etag because that plugin tags every
// reply whatever its method and status, and answers 304 to a matching If-None-Match even on an
// error or a POST; here only a successful GET is tagged or answered 304 (RFC 9110 §13.1.2).
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/** A strong validator of a reply body: the body's hash (equal bodies, equal tags). */
function etagOf(body: string | Buffer): string {
  return `"${createHash("sha1").update(body).digest("base64url")}"`;
}

/** Whether If-None-Match names `etag` (`*`, a list, weak or strong forms all count for GET). */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === etag);
}

/** An onSend hook: tags 200 replies to GET and answers 304 when the client has the same body. */
export async function etagHook(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<unknown> {
  if (request.method !== "GET" || reply.statusCode !== 200) return payload;
  if (!(typeof payload === "string" || Buffer.isBuffer(payload))) return payload; // streams: logs
  const etag = etagOf(payload);
  void reply.header("etag", etag);
  // Each user sees their own data: a shared cache must not hand one user's reply to another.
  void reply.header("cache-control", "private, no-cache");
  if (!matches(request.headers["if-none-match"], etag)) return payload;
  void reply.code(304);
  return "";
}
