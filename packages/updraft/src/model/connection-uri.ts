// Airflow's connection URI: `conn-type://login:password@host:port/schema?extra_key=value`.
// Here, below the CLI and the services, because `connections add --conn-uri` and the
// `UPDRAFT_CONN_*` environment variables read the same form.
import { UpdraftError } from "../common/errors.js";

/** A connection's fields as Airflow names them (the db module's `Connection` is this type). */
export interface ConnectionFields {
  connId: string;
  connType: string;
  description: string | null;
  host: string | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  port: number | null;
  /** JSON text of the extra fields. */
  extra: string | null;
}

function invalid(message: string): UpdraftError {
  return new UpdraftError("CONNECTION_INVALID", message);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(`The ${what} in the connection URI has a broken percent-escape (%XX).`);
  }
}

/** A port as typed (`5432`), or CONNECTION_INVALID. */
export function parsePort(text: string): number {
  const port = /^\d+$/.test(text) ? Number.parseInt(text, 10) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`The port must be a whole number from 1 to 65535 (got ${JSON.stringify(text)}).`);
  }
  return port;
}

/** JSON text of a connection's extra: must be a JSON object. */
export function parseExtraOption(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`--conn-extra is not valid JSON (${err instanceof Error ? err.message : String(err)}).`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid('--conn-extra must be a JSON object, such as {"sslmode": "require"}.');
  }
  return JSON.stringify(value);
}

/**
 * The URI with whatever may be a password masked, to show in an error: everything from the colon
 * after the login up to the last `@` (a malformed URI such as `postgres//alice:secret@db` still
 * has its password there, and the message must never carry it).
 */
export function withoutPassword(uri: string): string {
  return uri.replace(/^(.*?\/\/?)?([^:@/]*):.*@/s, "$1$2:***@");
}

/**
 * Parses a connection URI as Airflow does: the scheme is the type (`-` read as `_`, `postgresql`
 * as `postgres`), login, password, host and schema are percent-decoded, and query parameters
 * become the extra (or `__extra__` holds the extra's JSON).
 */
export function parseConnectionUri(connId: string, uri: string): ConnectionFields {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/.exec(uri.trim());
  if (m === null) {
    const shown = withoutPassword(uri);
    throw invalid(
      `${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown)} is not a connection URI: use type://login:password@host:port/schema, such as postgres://user:pass@db.example.com:5432/sales.`,
    );
  }
  const [, scheme = "", authority = "", path = "", query] = m;
  let connType = scheme.toLowerCase().replace(/-/g, "_");
  if (connType === "postgresql") connType = "postgres";
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : null;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let login: string | null = null;
  let password: string | null = null;
  if (userinfo !== null) {
    const colon = userinfo.indexOf(":");
    login = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, "login");
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), "password") : null;
    if (login === "") login = null;
  }
  // [v6]:port, or host:port (the last colon, so a bare host with no port keeps its name).
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  if (hp === null)
    throw invalid(`The host and port in the connection URI cannot be read: ${JSON.stringify(hostport)}.`);
  const host = hp[1] === undefined || hp[1] === "" ? null : decode(hp[1], "host");
  const port = hp[2] === undefined || hp[2] === "" ? null : parsePort(hp[2]);
  const schema = path.length > 1 ? decode(path.slice(1), "schema") : null;
  let extra: string | null = null;
  if (query !== undefined && query !== "") {
    const params = new URLSearchParams(query);
    const raw = params.get("__extra__");
    if (raw !== null) {
      extra = parseExtraOption(raw);
    } else {
      const obj: Record<string, string | string[]> = {};
      for (const key of new Set(params.keys())) {
        const all = params.getAll(key);
        obj[key] = all.length === 1 ? (all[0] ?? "") : all;
      }
      extra = JSON.stringify(obj);
    }
  }
  return { connId, connType, description: null, host, schema, login, password, port, extra };
}
