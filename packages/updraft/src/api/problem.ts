import { STATUS_CODES } from "node:http";
import type { FastifyReply } from "fastify";
import { ERROR_CODES, isErrorCode, isUpdraftError, type ErrorKind } from "../common/errors.js";

/** The HTTP status of each kind of error: one place, every kind (a new kind does not compile without one). */
const STATUS: Readonly<Record<ErrorKind, number>> = {
  invalid: 400,
  unprocessable: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  details?: Readonly<Record<string, unknown>>;
}

/** The status of an error code (common/error-codes.ts); a code that is not one of ours is a server error. */
export function statusFor(code: string): number {
  return isErrorCode(code) ? STATUS[ERROR_CODES[code]] : 500;
}

export function problem(
  status: number,
  code: string,
  detail: string,
  details?: Readonly<Record<string, unknown>>,
): Problem {
  const body: Problem = { type: "about:blank", title: STATUS_CODES[status] ?? "Error", status, detail, code };
  if (details !== undefined && Object.keys(details).length > 0) body.details = details;
  return body;
}

/** Fastify's own 4xx codes (bad JSON, body too large, unsupported media type…) as ours. */
function fastifyCode(status: number, fastify: string | undefined): string {
  if (status === 413) return "PAYLOAD_TOO_LARGE";
  if (status === 415) return "UNSUPPORTED_MEDIA_TYPE";
  if (status === 404) return "NOT_FOUND";
  if (fastify === "FST_ERR_CTP_INVALID_JSON_BODY" || fastify === undefined) return "MALFORMED_REQUEST";
  return fastify.replace(/^FST_ERR_/, "");
}

/**
 * The problem an error is for a client: our codes by their status, Fastify's 4xx as they are,
 * PostgreSQL's "bad value" errors (class 22: NUL bytes, out-of-range numbers…) as 400. Anything
 * else is a 500 whose detail reveals nothing (the server logs it).
 */
export function toProblem(err: unknown): Problem {
  if (isUpdraftError(err)) return problem(statusFor(err.code), err.code, err.message, err.details);
  const status =
    typeof err === "object" && err !== null && "statusCode" in err ? Number(err.statusCode) : NaN;
  if (status >= 400 && status < 500) {
    const code =
      typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
        ? err.code
        : undefined;
    const message = err instanceof Error ? err.message : "Bad request.";
    return problem(status, fastifyCode(status, code), message);
  }
  const sqlState =
    typeof err === "object" && err !== null && "code" in err && typeof err.code === "string"
      ? err.code
      : undefined;
  if (sqlState !== undefined && /^22[0-9A-Z]{3}$/.test(sqlState)) {
    return problem(
      400,
      "VALUE_INVALID",
      `A value in the request cannot be stored: ${err instanceof Error ? err.message : sqlState}.`,
    );
  }
  return problem(500, "INTERNAL_ERROR", "The server failed to handle the request; its log has the details.");
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type("application/problem+json").send(p);
}
