import { sql, type Kysely } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Schema } from "./schema.js";

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) {
    throw new UpdraftError(
      "DB_CHANNEL_INVALID",
      `"${channel}" is not a valid notification channel: use lowercase letters, digits and _ (at most 63, not starting with a digit).`,
    );
  }
}

/** Sends NOTIFY through `db`; inside a transaction it is delivered at commit, and not at all on rollback. */
export async function notify(db: Kysely<Schema>, channel: string, payload: string): Promise<void> {
  checkChannel(channel);
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}
