import type { FastifyRequest } from "fastify";
import { UpdraftError, type ErrorCode } from "../common/errors.js";

/**
 * Deepest nesting of objects and arrays a JSON request body may have; the body itself is level 1.
 * JSON.parse copes with any depth, but what runs after it recurses (JSON.stringify in the XCom size
 * check and for run conf, zod, pg's parameter serialization) and overflows the stack near a few
 * thousand levels. Run conf, params and XCom values are data records: real ones stay within a
 * dozen levels, so 100 leaves plenty of room while keeping every walker far from the stack limit.
 */
export const MAX_JSON_DEPTH = 100;

export const BODY_TOO_DEEP = "BODY_TOO_DEEP" satisfies ErrorCode;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * True when the JSON text nests objects and arrays deeper than `max`. Scans the text without
 * parsing it (brackets inside strings do not count), so that no depth can overflow the check
 * itself. Malformed text is left for the parser to refuse.
 */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

export function bodyTooDeep(max: number): UpdraftError {
  return new UpdraftError(
    BODY_TOO_DEEP,
    `The JSON body nests objects and arrays more than ${max} levels deep (the body itself is level 1), which the API does not accept. Flatten the value, or send deeply nested data as a JSON string.`,
    { details: { max_depth: max } },
  );
}

type ParseDone = (err: Error | null, body?: unknown) => void;

/** A body parser in Fastify's callback form, the form of its default JSON parser. */
export type CallbackBodyParser = (request: FastifyRequest, body: string, done: ParseDone) => void;

/**
 * The `application/json` parser of the API server: Fastify's own (empty and malformed bodies,
 * `__proto__`/`constructor` poisoning), behind a depth check. Fastify enforces the body size
 * limit while reading, before this runs.
 */
export function depthCheckedJsonParser(
  defaultParser: CallbackBodyParser,
  max = MAX_JSON_DEPTH,
): CallbackBodyParser {
  return (request, body, done) => {
    if (jsonNestsDeeperThan(body, max)) done(bodyTooDeep(max));
    else defaultParser(request, body, done);
  };
}
