import { UpdraftError } from "../common/errors.js";

const ID = /^[A-Za-z0-9_.-]+$/;
export const MAX_ID_LENGTH = 250;

/** DAG, task and group ids: letters, digits, `-`, `_`, `.`; at most 250 characters. */
export function validateId(id: unknown, what: string): asserts id is string {
  if (typeof id !== "string" || id.length === 0) {
    throw new UpdraftError(
      "INVALID_ID",
      `The ${what} must be a non-empty string, got ${JSON.stringify(id)}.`,
    );
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new UpdraftError(
      "INVALID_ID",
      `The ${what} "${id.slice(0, 40)}…" is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}.`,
    );
  }
  if (!ID.test(id)) {
    throw new UpdraftError(
      "INVALID_ID",
      `The ${what} "${id}" may only contain letters, digits, "-", "_" and ".".`,
    );
  }
}
