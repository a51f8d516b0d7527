// Connections from the environment, as Airflow's `AIRFLOW_CONN_{CONN_ID}`: the process that
// serves a task's connection lookup reads `UPDRAFT_CONN_{CONN_ID}` before the database
// (decision 0039). The value is a connection URI or a JSON object with Airflow's fields.
import { UpdraftError } from "../common/errors.js";
import { parseConnectionUri, type ConnectionFields } from "./connection-uri.js";

export const CONN_ENV_PREFIX = "UPDRAFT_CONN_";

/** The variable that holds `connId`: Airflow upper-cases the id, so `warehouse` and `WAREHOUSE` are one. */
export function connEnvName(connId: string): string {
  return `${CONN_ENV_PREFIX}${connId.toUpperCase()}`;
}

const JSON_FIELDS = new Set([
  "conn_type",
  "host",
  "schema",
  "login",
  "password",
  "port",
  "extra",
  "description",
]);

/**
 * The connection `connId` as the environment defines it, or undefined when its variable is unset
 * or empty. A value that is neither a connection URI nor a JSON object of Airflow's fields is
 * CONNECTION_ENV_INVALID, naming the variable (never its password) and the form expected.
 */
export function connectionFromEnv(
  connId: string,
  env: Readonly<Record<string, string | undefined>>,
): ConnectionFields | undefined {
  const name = connEnvName(connId);
  const value = env[name]?.trim();
  if (value === undefined || value === "") return undefined;
  try {
    // Airflow's rule: a value starting with `{` is JSON, anything else a URI.
    return value.startsWith("{") ? fromJson(connId, value) : parseConnectionUri(connId, value);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UpdraftError(
      "CONNECTION_ENV_INVALID",
      `The environment variable ${name} (connection "${connId}") cannot be read: ${why} ` +
        `Set it to a connection URI such as postgres://user:pass@127.0.0.1:5432/db, or to a JSON ` +
        `object such as {"conn_type": "http", "host": "127.0.0.1", "port": 8081}, or unset it to ` +
        `use the connection stored in the database.`,
      { cause: err, details: { variable: name, conn_id: connId } },
    );
  }
}

function fail(message: string): never {
  throw new UpdraftError("CONNECTION_INVALID", message);
}

function text(obj: Record<string, unknown>, key: string): string | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") fail(`"${key}" must be text (got ${typeof v}).`);
  return v;
}

function fromJson(connId: string, value: string): ConnectionFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // Not the parser's message: V8 quotes the text around the error, which may be the password.
    fail('it starts with "{" but is not valid JSON.');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    fail('it starts with "{" but is not a JSON object.');
  const obj = parsed as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !JSON_FIELDS.has(k));
  if (unknown.length > 0)
    fail(
      `unknown field(s) ${unknown.map((k) => `"${k}"`).join(", ")}; the fields are ${[...JSON_FIELDS].join(", ")}.`,
    );
  const connType = text(obj, "conn_type");
  if (connType === null || connType === "") fail('"conn_type" is missing.');
  const rawPort = obj["port"];
  let port: number | null = null;
  if (rawPort !== undefined && rawPort !== null) {
    port =
      typeof rawPort === "number" ? rawPort : /^\d+$/.test(String(rawPort)) ? Number(rawPort) : Number.NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      fail(`"port" must be a whole number from 1 to 65535 (got ${JSON.stringify(rawPort)}).`);
  }
  // Airflow accepts the extra as an object or as JSON text of one.
  const rawExtra = obj["extra"];
  let extra: string | null = null;
  if (rawExtra !== undefined && rawExtra !== null && rawExtra !== "") {
    let extraObj: unknown = rawExtra;
    if (typeof rawExtra === "string") {
      try {
        extraObj = JSON.parse(rawExtra);
      } catch {
        fail('"extra" is text that is not JSON; give an object, such as {"sslmode": "require"}.');
      }
    }
    if (typeof extraObj !== "object" || extraObj === null || Array.isArray(extraObj))
      fail('"extra" must be an object, such as {"sslmode": "require"}.');
    extra = JSON.stringify(extraObj);
  }
  let connTypeNorm = connType.toLowerCase().replace(/-/g, "_");
  if (connTypeNorm === "postgresql") connTypeNorm = "postgres";
  return {
    connId,
    connType: connTypeNorm,
    description: text(obj, "description"),
    host: text(obj, "host"),
    schema: text(obj, "schema"),
    login: text(obj, "login"),
    password: text(obj, "password"),
    port,
    extra,
  };
}
