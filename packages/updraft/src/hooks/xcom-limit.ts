import { UpdraftError } from "../common/errors.js";
import { loadConfig } from "../config/index.js";

const DEFAULT_XCOM_MAX_SIZE = 1_048_576;
let cached: number | undefined;

/**
 * core.xcom_max_size as this process sees it (UPDRAFT__CORE__XCOM_MAX_SIZE, the config file):
 * the API server refuses larger values anyway, but an operator that checks first can say which
 * rows made it too large and what to do. A config that does not load leaves the default.
 */
export function xcomMaxSize(): number {
  if (cached !== undefined) return cached;
  try {
    cached = loadConfig().core.xcom_max_size;
  } catch {
    cached = DEFAULT_XCOM_MAX_SIZE;
  }
  return cached;
}

/** Throws XCOM_TOO_LARGE naming `what` when `value` is over core.xcom_max_size as JSON. */
export function checkXcomSize(value: unknown, what: string, hint: string): void {
  const text = JSON.stringify(value);
  if (text === undefined) return;
  const size = Buffer.byteLength(text);
  const max = xcomMaxSize();
  if (size <= max) return;
  throw new UpdraftError(
    "XCOM_TOO_LARGE",
    `${what} is ${size} bytes of JSON, over core.xcom_max_size (${max} bytes). ${hint}`,
    { details: { size, max_size: max } },
  );
}
