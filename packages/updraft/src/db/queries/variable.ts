import type { Cipher } from "../cipher.js";
import type { Executor } from "../executor.js";

export interface Variable {
  key: string;
  val: string | null;
  description: string | null;
}

/** Decrypts when the row is encrypted (CONNECTION_KEY_MISSING/INVALID if the key is wrong). */
function reveal(
  row: { key: string; val: string | null; description: string | null; is_encrypted: boolean },
  cipher: Cipher,
): Variable {
  const val = row.is_encrypted && row.val !== null ? cipher.decrypt(row.val) : row.val;
  return { key: row.key, val, description: row.description };
}

export async function getVariable(db: Executor, cipher: Cipher, key: string): Promise<Variable | undefined> {
  const row = await db.selectFrom("variable").selectAll().where("key", "=", key).executeTakeFirst();
  return row === undefined ? undefined : reveal(row, cipher);
}

export async function listVariables(
  db: Executor,
  cipher: Cipher,
  options: { limit?: number; offset?: number } = {},
): Promise<Variable[]> {
  let q = db.selectFrom("variable").selectAll().orderBy("key");
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset !== undefined) q = q.offset(options.offset);
  return (await q.execute()).map((row) => reveal(row, cipher));
}

/**
 * Creates or replaces a variable. The value is encrypted at rest when the cipher has a key
 * (as Airflow does with a fernet key), stored plainly otherwise.
 */
export async function setVariable(db: Executor, cipher: Cipher, variable: Variable): Promise<void> {
  const encrypt = cipher.hasKey && variable.val !== null;
  const values = {
    val: encrypt && variable.val !== null ? cipher.encrypt(variable.val) : variable.val,
    description: variable.description,
    is_encrypted: encrypt,
  };
  await db
    .insertInto("variable")
    .values({ key: variable.key, ...values })
    .onConflict((oc) => oc.column("key").doUpdateSet(values))
    .execute();
}

/** Deletes a variable; returns whether it existed. */
export async function deleteVariable(db: Executor, key: string): Promise<boolean> {
  const result = await db.deleteFrom("variable").where("key", "=", key).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
