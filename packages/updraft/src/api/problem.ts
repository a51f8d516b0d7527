import { STATUS_CODES } from "node:http";
import type { FastifyReply } from "fastify";
import { isUpdraftError } from "../common/errors.js";

/** HTTP status of each error code a client can cause; unknown codes are server errors. */
const STATUS: Readonly<Record<string, number>> = {
  REQUEST_INVALID: 422,
  PARAMETER_INVALID: 400,
  ID_INVALID: 400,
  RUN_ID_INVALID: 400,
  LOGICAL_DATE_INVALID: 400,
  TASK_REGEX_INVALID: 400,
  UNAUTHORIZED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  TI_CONFLICT: 409,
  DAG_RUN_EXISTS: 409,
  POOL_DELETE_DEFAULT: 409,
  XCOM_TOO_LARGE: 413,
  DAG_RUN_CONF_INVALID: 422,
  DAG_RUN_NOTE_INVALID: 422,
  PARAMS_INVALID: 422,
  POOL_INVALID: 422,
  XCOM_INVALID: 422,
  CONNECTION_INVALID: 422,
  VARIABLE_INVALID: 422,
  CONNECTION_KEY_MISSING: 503,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  details?: Readonly<Record<string, unknown>>;
}

export function statusFor(code: string): number {
  const known = STATUS[code];
  if (known !== undefined) return known;
  if (code.endsWith("_NOT_FOUND")) return 404;
  if (code.endsWith("_EXISTS")) return 409;
  return 500;
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
