import { UpdraftError } from "../common/errors.js";

/** `host:port/database` of a PostgreSQL URL, without credentials, for messages. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, "") || "(default)";
    return `${u.hostname || "localhost"}:${u.port || "5432"}/${db}`;
  } catch {
    return "(unparsable URL)";
  }
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "57P01", // admin_shutdown
  "57P03", // cannot_connect_now
  "3D000", // invalid_catalog_name: database does not exist
  "28P01", // invalid_password
  "28000", // invalid_authorization_specification
]);

/** The driver or SQLSTATE code of an error, if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") {
    return err.code;
  }
  return undefined;
}

/** Whether an error means the server could not be reached or refused us (not a query error). */
export function isConnectionError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : "";
  return /timeout exceeded when trying to connect|Connection terminated/i.test(message);
}

/** DB_UNREACHABLE naming host:port and the setting to change. */
export function unreachable(url: string, err: unknown): UpdraftError {
  const where = describePgUrl(url);
  const reason = err instanceof Error ? err.message : String(err);
  return new UpdraftError(
    "DB_UNREACHABLE",
    `Cannot connect to PostgreSQL at ${where}: ${reason}. Check that the server runs and accepts connections, or change database.sql_alchemy_conn (env UPDRAFT__DATABASE__SQL_ALCHEMY_CONN).`,
    { cause: err, details: { target: where } },
  );
}

/** Whether an error is a unique-constraint violation (SQLSTATE 23505), optionally on one constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (errorCode(err) !== "23505") return false;
  if (constraint === undefined) return true;
  const c = typeof err === "object" && err !== null && "constraint" in err ? err.constraint : undefined;
  const message = err instanceof Error ? err.message : "";
  return c === constraint || message.includes(constraint);
}
