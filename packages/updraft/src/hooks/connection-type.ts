import { UpdraftError } from "../common/errors.js";
import type { Connection } from "../sdk/context.js";

/**
 * Refuses a connection of another system before anything is sent to it: a `postgres` hook on an
 * `http` connection would otherwise fail far from the cause (or send a password to the wrong host).
 * Airflow spells some types two ways (`postgres`/`postgresql`): `accepted` lists them all.
 */
export function expectConnType(conn: Connection, hook: string, accepted: readonly string[]): void {
  const type = conn.conn_type.toLowerCase().replace(/-/g, "_");
  if (accepted.includes(type)) return;
  throw new UpdraftError(
    "CONNECTION_TYPE_MISMATCH",
    `Connection "${conn.conn_id}" has conn_type "${conn.conn_type}", but the ${hook} needs "${accepted[0] ?? ""}"${
      accepted.length > 1
        ? ` (or ${accepted
            .slice(1)
            .map((a) => `"${a}"`)
            .join(", ")})`
        : ""
    }. Point the task at a ${accepted[0] ?? ""} connection, or fix the connection's type.`,
    { details: { conn_id: conn.conn_id, conn_type: conn.conn_type, expected: accepted[0] } },
  );
}

/** A connection field or extra as a string, or undefined when it is missing, empty or not text. */
export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
