import { UpdraftError } from "../common/errors.js";
import { getConnection, getVariable, type Cipher, type Executor } from "../db/index.js";
import { connEnvName, connectionFromEnv } from "../model/env-connection.js";
import type { ConnectionPayload } from "../model/execution-api.js";

/** A variable for a running task: `{ key, value }`, or VARIABLE_NOT_FOUND. */
export async function getVariableForTask(
  db: Executor,
  cipher: Cipher,
  key: string,
): Promise<{ key: string; value: string | null }> {
  const variable = await getVariable(db, cipher, key);
  if (variable === undefined)
    throw new UpdraftError("VARIABLE_NOT_FOUND", `Variable "${key}" does not exist.`);
  return { key: variable.key, value: variable.val };
}

/**
 * A connection for a running task, password decrypted (the runner masks it in the task's log),
 * extra as an object. This serving process's `UPDRAFT_CONN_{CONN_ID}` comes first, then the
 * database, as Airflow's secrets backends (decision 0039); CONNECTION_NOT_FOUND when neither has it.
 * Every lookup for a task (execution API, triggerer) comes through here.
 */
export async function getConnectionForTask(
  db: Executor,
  cipher: Cipher,
  connId: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ConnectionPayload> {
  const conn = connectionFromEnv(connId, env) ?? (await getConnection(db, cipher, connId));
  if (conn === undefined)
    throw new UpdraftError(
      "CONNECTION_NOT_FOUND",
      `Connection "${connId}" does not exist: add it (updraft connections add ${connId} --conn-uri …) or set ${connEnvName(connId)} where the API server runs.`,
    );
  return {
    conn_id: conn.connId,
    conn_type: conn.connType,
    host: conn.host,
    schema: conn.schema,
    login: conn.login,
    password: conn.password,
    port: conn.port,
    extra: parseExtra(conn.extra),
  };
}

/** A connection's extra (JSON text) as an object; anything else becomes `{}`. */
export function parseExtra(extra: string | null): Record<string, unknown> {
  if (extra === null || extra === "") return {};
  try {
    const parsed: unknown = JSON.parse(extra);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}
