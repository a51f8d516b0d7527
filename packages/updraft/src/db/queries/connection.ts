import type { Selectable } from "kysely";
import type { Cipher } from "../cipher.js";
import type { Executor } from "../executor.js";
import type { ConnectionFields } from "../../model/connection-uri.js";
import type { ConnectionTable } from "../schema.js";

/** A connection as callers see it: password and extra decrypted (Airflow's fields, one shape). */
export type Connection = ConnectionFields;

function reveal(row: Selectable<ConnectionTable>, cipher: Cipher): Connection {
  return {
    connId: row.conn_id,
    connType: row.conn_type,
    description: row.description,
    host: row.host,
    schema: row.schema,
    login: row.login,
    password: row.is_encrypted && row.password !== null ? cipher.decrypt(row.password) : row.password,
    port: row.port,
    extra: row.is_extra_encrypted && row.extra !== null ? cipher.decrypt(row.extra) : row.extra,
  };
}

export async function getConnection(
  db: Executor,
  cipher: Cipher,
  connId: string,
): Promise<Connection | undefined> {
  const row = await db.selectFrom("connection").selectAll().where("conn_id", "=", connId).executeTakeFirst();
  return row === undefined ? undefined : reveal(row, cipher);
}

/** Connections with their extras decrypted but without passwords (`password` is always null). */
export async function listConnections(
  db: Executor,
  cipher: Cipher,
  options: { limit?: number; offset?: number } = {},
): Promise<Connection[]> {
  let q = db.selectFrom("connection").selectAll().orderBy("conn_id");
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset !== undefined) q = q.offset(options.offset);
  const rows = await q.execute();
  return rows.map((row) => ({ ...reveal({ ...row, password: null }, cipher), password: null }));
}

/**
 * Creates or replaces a connection. Password and extra are always encrypted at rest
 * (AES-256-GCM keyed from core.fernet_key); without a key this throws CONNECTION_KEY_MISSING.
 */
export async function setConnection(db: Executor, cipher: Cipher, conn: Connection): Promise<void> {
  const values = {
    conn_type: conn.connType,
    description: conn.description,
    host: conn.host,
    schema: conn.schema,
    login: conn.login,
    password: conn.password === null ? null : cipher.encrypt(conn.password),
    port: conn.port,
    extra: conn.extra === null ? null : cipher.encrypt(conn.extra),
    is_encrypted: conn.password !== null,
    is_extra_encrypted: conn.extra !== null,
  };
  await db
    .insertInto("connection")
    .values({ conn_id: conn.connId, ...values })
    .onConflict((oc) => oc.column("conn_id").doUpdateSet(values))
    .execute();
}

/** Deletes a connection; returns whether it existed. */
export async function deleteConnection(db: Executor, connId: string): Promise<boolean> {
  const result = await db.deleteFrom("connection").where("conn_id", "=", connId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
