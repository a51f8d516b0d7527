// Users, their roles, API tokens and login sessions (tables of migration 0007). Hashing and the
// rules of who may change what live in services/users.ts; these are the statements.
import { sql } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import type { Executor } from "../executor.js";
import type { ApiTokenRow, UserRow } from "../schema.js";

export interface UserWithRoles extends UserRow {
  roles: string[];
}

export interface NewUser {
  username: string;
  email: string;
  firstName?: string;
  lastName?: string;
  /** The argon2id hash, never the password. */
  passwordHash: string;
}

/** The role names a user holds, sorted. */
async function rolesOf(db: Executor, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom("ab_user_role as ur")
    .innerJoin("ab_role as r", "r.id", "ur.role_id")
    .select("r.name")
    .where("ur.user_id", "=", userId)
    .orderBy("r.name")
    .execute();
  return rows.map((r) => r.name);
}

export async function getUser(db: Executor, username: string): Promise<UserWithRoles | undefined> {
  const user = await db.selectFrom("ab_user").selectAll().where("username", "=", username).executeTakeFirst();
  if (user === undefined) return undefined;
  return { ...user, roles: await rolesOf(db, user.id) };
}

export async function getUserById(db: Executor, id: number): Promise<UserWithRoles | undefined> {
  const user = await db.selectFrom("ab_user").selectAll().where("id", "=", id).executeTakeFirst();
  if (user === undefined) return undefined;
  return { ...user, roles: await rolesOf(db, user.id) };
}

export async function listUsers(db: Executor): Promise<UserWithRoles[]> {
  const users = await db.selectFrom("ab_user").selectAll().orderBy("username").execute();
  return Promise.all(users.map(async (u) => ({ ...u, roles: await rolesOf(db, u.id) })));
}

export async function listRoles(db: Executor): Promise<string[]> {
  return (await db.selectFrom("ab_role").select("name").orderBy("name").execute()).map((r) => r.name);
}

async function roleId(db: Executor, role: string): Promise<number> {
  const row = await db.selectFrom("ab_role").select("id").where("name", "=", role).executeTakeFirst();
  if (row === undefined) {
    const roles = await listRoles(db);
    throw new UpdraftError(
      "ROLE_NOT_FOUND",
      `There is no role "${role}". The roles are: ${roles.join(", ")}.`,
      { details: { role, roles } },
    );
  }
  return row.id;
}

/** Inserts a user holding `roles`; USER_EXISTS when the name or email is taken. */
export async function insertUser(db: Executor, user: NewUser, roles: readonly string[]): Promise<number> {
  const ids = await Promise.all(roles.map((r) => roleId(db, r)));
  const row = await db
    .insertInto("ab_user")
    .values({
      username: user.username,
      email: user.email,
      first_name: user.firstName ?? "",
      last_name: user.lastName ?? "",
      password: user.passwordHash,
    })
    .onConflict((oc) => oc.doNothing())
    .returning("id")
    .executeTakeFirst();
  if (row === undefined) {
    throw new UpdraftError(
      "USER_EXISTS",
      `A user named "${user.username}" or with the email ${user.email} exists already. Run \`updraft users list\` to see the users.`,
      { details: { username: user.username } },
    );
  }
  for (const id of ids)
    await db.insertInto("ab_user_role").values({ user_id: row.id, role_id: id }).execute();
  return row.id;
}

export async function deleteUser(db: Executor, username: string): Promise<boolean> {
  const r = await db.deleteFrom("ab_user").where("username", "=", username).executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function setUserPassword(db: Executor, userId: number, passwordHash: string): Promise<void> {
  await db
    .updateTable("ab_user")
    .set({ password: passwordHash, changed_on: sql<Date>`now()` })
    .where("id", "=", userId)
    .execute();
}

export async function setUserActive(db: Executor, userId: number, active: boolean): Promise<void> {
  await db
    .updateTable("ab_user")
    .set({ active, changed_on: sql<Date>`now()` })
    .where("id", "=", userId)
    .execute();
}

export async function setLastLogin(db: Executor, userId: number): Promise<void> {
  await db
    .updateTable("ab_user")
    .set({ last_login: sql<Date>`now()` })
    .where("id", "=", userId)
    .execute();
}

/** Gives a user a role; false when the user held it already. */
export async function addUserRole(db: Executor, userId: number, role: string): Promise<boolean> {
  const id = await roleId(db, role);
  const r = await db
    .insertInto("ab_user_role")
    .values({ user_id: userId, role_id: id })
    .onConflict((oc) => oc.doNothing())
    .returning("role_id")
    .executeTakeFirst();
  return r !== undefined;
}

/** Takes a role from a user; false when the user did not hold it. */
export async function removeUserRole(db: Executor, userId: number, role: string): Promise<boolean> {
  const id = await roleId(db, role);
  const r = await db
    .deleteFrom("ab_user_role")
    .where("user_id", "=", userId)
    .where("role_id", "=", id)
    .executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function insertApiToken(
  db: Executor,
  token: { userId: number; tokenHash: string; description: string | null; expiresInS: number | null },
): Promise<ApiTokenRow> {
  return db
    .insertInto("api_token")
    .values({
      user_id: token.userId,
      token_hash: token.tokenHash,
      description: token.description,
      expires_at:
        token.expiresInS === null ? null : sql<Date>`now() + make_interval(secs => ${token.expiresInS})`,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listApiTokens(db: Executor, userId: number): Promise<ApiTokenRow[]> {
  return db.selectFrom("api_token").selectAll().where("user_id", "=", userId).orderBy("id").execute();
}

/**
 * Revokes a token (kept, for the record); false when there is no such unrevoked token, or when
 * `userId` is given and the token is not that user's (the REST route for one's own tokens).
 */
export async function revokeApiToken(db: Executor, id: number, userId?: number): Promise<boolean> {
  let q = db
    .updateTable("api_token")
    .set({ revoked_at: sql<Date>`now()` })
    .where("id", "=", id)
    .where("revoked_at", "is", null);
  if (userId !== undefined) q = q.where("user_id", "=", userId);
  const r = await q.executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function deleteApiTokenByHash(db: Executor, tokenHash: string): Promise<void> {
  await db.deleteFrom("api_token").where("token_hash", "=", tokenHash).execute();
}

/** The active user a live token (not revoked, not expired by the database's clock) belongs to. */
export async function userByApiToken(db: Executor, tokenHash: string): Promise<UserWithRoles | undefined> {
  const row = await db
    .selectFrom("api_token as t")
    .innerJoin("ab_user as u", "u.id", "t.user_id")
    .select("u.id")
    .where("t.token_hash", "=", tokenHash)
    .where("t.revoked_at", "is", null)
    .where((eb) => eb.or([eb("t.expires_at", "is", null), eb("t.expires_at", ">", sql<Date>`now()`)]))
    .where("u.active", "=", true)
    .executeTakeFirst();
  return row === undefined ? undefined : getUserById(db, row.id);
}

export async function insertSession(
  db: Executor,
  session: { id: string; userId: number; csrfHash: string; lifetimeS: number },
): Promise<Date> {
  const row = await db
    .insertInto("user_session")
    .values({
      id: session.id,
      user_id: session.userId,
      csrf_hash: session.csrfHash,
      expires_at: sql<Date>`now() + make_interval(secs => ${session.lifetimeS})`,
    })
    .returning("expires_at")
    .executeTakeFirstOrThrow();
  return row.expires_at;
}

/** A live session (not expired) of an active user, with the session's CSRF hash. */
export async function userBySession(
  db: Executor,
  sessionId: string,
): Promise<{ user: UserWithRoles; csrfHash: string } | undefined> {
  const row = await db
    .selectFrom("user_session as s")
    .innerJoin("ab_user as u", "u.id", "s.user_id")
    .select(["u.id", "s.csrf_hash"])
    .where("s.id", "=", sessionId)
    .where("s.expires_at", ">", sql<Date>`now()`)
    .where("u.active", "=", true)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const user = await getUserById(db, row.id);
  return user === undefined ? undefined : { user, csrfHash: row.csrf_hash };
}

export async function deleteSession(db: Executor, sessionId: string): Promise<void> {
  await db.deleteFrom("user_session").where("id", "=", sessionId).execute();
}

/** Ends every session of a user (password changed, user disabled or roles changed). */
export async function deleteUserSessions(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom("user_session").where("user_id", "=", userId).execute();
}

/** Changes a user's name, email or names; USER_EXISTS when the new name or email is taken. */
export async function setUserProfile(
  db: Executor,
  userId: number,
  profile: { username?: string; email?: string; firstName?: string; lastName?: string },
): Promise<void> {
  const set = {
    ...(profile.username === undefined ? {} : { username: profile.username }),
    ...(profile.email === undefined ? {} : { email: profile.email }),
    ...(profile.firstName === undefined ? {} : { first_name: profile.firstName }),
    ...(profile.lastName === undefined ? {} : { last_name: profile.lastName }),
  };
  if (Object.keys(set).length === 0) return;
  const taken = await db
    .selectFrom("ab_user")
    .select("username")
    .where("id", "<>", userId)
    .where((eb) =>
      eb.or([
        ...(profile.username === undefined ? [] : [eb("username", "=", profile.username)]),
        ...(profile.email === undefined ? [] : [eb("email", "=", profile.email)]),
      ]),
    )
    .executeTakeFirst();
  if (taken !== undefined && (profile.username !== undefined || profile.email !== undefined)) {
    throw new UpdraftError(
      "USER_EXISTS",
      `Another user ("${taken.username}") has that user name or email already. Choose another one.`,
      { details: { username: taken.username } },
    );
  }
  await db
    .updateTable("ab_user")
    .set({ ...set, changed_on: sql<Date>`now()` })
    .where("id", "=", userId)
    .execute();
}

/** Replaces the roles a user holds (ROLE_NOT_FOUND for a name that is not a role). */
export async function setUserRoles(db: Executor, userId: number, roles: readonly string[]): Promise<void> {
  const ids = await Promise.all([...new Set(roles)].map((r) => roleId(db, r)));
  await db.deleteFrom("ab_user_role").where("user_id", "=", userId).execute();
  for (const id of ids)
    await db.insertInto("ab_user_role").values({ user_id: userId, role_id: id }).execute();
}

/**
 * The ids of the active users holding `role`, after locking that role's row: two transactions
 * that each check "is someone else still an Admin?" then take it away run one after the other.
 */
export async function lockActiveHolders(db: Executor, role: string): Promise<number[]> {
  await db.selectFrom("ab_role").select("id").where("name", "=", role).forUpdate().execute();
  const rows = await db
    .selectFrom("ab_user_role as ur")
    .innerJoin("ab_role as r", "r.id", "ur.role_id")
    .innerJoin("ab_user as u", "u.id", "ur.user_id")
    .select("u.id")
    .where("r.name", "=", role)
    .where("u.active", "=", true)
    .execute();
  return rows.map((r) => r.id);
}
