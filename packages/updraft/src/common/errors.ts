import type { ErrorCode } from "./error-codes.js";

export type { ErrorCode, ErrorKind } from "./error-codes.js";
export { ERROR_CODES, isErrorCode } from "./error-codes.js";

/**
 * The one error base class of Updraft. Every error a user can see carries a stable `code`
 * (documented, safe to match on) and a message that says what went wrong and what to do.
 *
 * @example
 * ```ts
 * throw new UpdraftError("DAG_NOT_FOUND", `DAG "sales" was not found. Run \`updraft dags list\` to see the DAG ids.`);
 * ```
 */
export class UpdraftError extends Error {
  override readonly name = "UpdraftError";
  readonly code: ErrorCode;
  /** Extra machine-readable facts (file, line, task id…) for API and CLI output. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True for an UpdraftError with the given code (or any code when none is given). */
export function isUpdraftError(err: unknown, code?: ErrorCode): err is UpdraftError {
  return err instanceof UpdraftError && (code === undefined || err.code === code);
}

/** A readable one-line description of anything thrown, for logs and import errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : JSON.stringify(err);
}
