// Changes to users and their credentials, shared by the CLI and the API. Whatever ends a user's
// right to a session (a new password, being disabled) ends the sessions in the same transaction.
import { createHash, randomBytes } from "node:crypto";
import { UpdraftError } from "../common/errors.js";
import {
  deleteUserSessions,
  getUser,
  inTransaction,
  insertApiToken,
  insertSession,
  insertUser,
  setUserActive,
  setUserPassword,
  type Executor,
  type UserWithRoles,
} from "../db/index.js";
import { checkPasswordStrength, hashPassword } from "./passwords.js";

/** sha256 (hex) of a secret: how API tokens, session ids and CSRF tokens are stored. */
export function secretHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** A random secret (32 bytes, base64url) with a prefix saying what it is. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** A random password: 20 characters, from the 64 of base64url. */
export function randomPassword(): string {
  return randomBytes(15).toString("base64url");
}

export function userNotFound(username: string): UpdraftError {
  return new UpdraftError(
    "USER_NOT_FOUND",
    `There is no user "${username}". Run \`updraft users list\` to see the users.`,
    { details: { username } },
  );
}

export async function requireUser(db: Executor, username: string): Promise<UserWithRoles> {
  const user = await getUser(db, username);
  if (user === undefined) throw userNotFound(username);
  return user;
}

export interface CreateUserInput {
  username: string;
  email: string;
  password: string;
  roles: readonly string[];
  firstName?: string;
  lastName?: string;
}

const USERNAME = /^[A-Za-z0-9_.@+-]{1,250}$/;

/** USER_INVALID unless `username` is 1–250 letters, digits and _ . @ + -. */
export function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    throw new UpdraftError(
      "USER_INVALID",
      `"${username}" cannot be a user name: use 1–250 letters, digits and _ . @ + -.`,
    );
  }
}

/** USER_INVALID unless `email` looks like an email address. */
export function checkEmail(email: string): void {
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new UpdraftError("USER_INVALID", `"${email}" is not an email address.`);
  }
}

/** Creates a user after checking the name, email and password (USER_INVALID, PASSWORD_WEAK). */
export async function createUser(db: Executor, input: CreateUserInput): Promise<number> {
  checkUsername(input.username);
  checkEmail(input.email);
  if (input.roles.length === 0) {
    throw new UpdraftError("USER_INVALID", "A user needs a role: Admin, Op, User or Viewer (--role).");
  }
  checkPasswordStrength(input.username, input.password);
  const passwordHash = await hashPassword(input.password);
  return inTransaction(db, (tx) =>
    insertUser(
      tx,
      {
        username: input.username,
        email: input.email,
        passwordHash,
        ...(input.firstName === undefined ? {} : { firstName: input.firstName }),
        ...(input.lastName === undefined ? {} : { lastName: input.lastName }),
      },
      input.roles,
    ),
  );
}

/** Sets a new password and ends every session of the user (as Airflow does on a reset). */
export async function resetPassword(db: Executor, username: string, password: string): Promise<void> {
  checkPasswordStrength(username, password);
  const passwordHash = await hashPassword(password);
  await inTransaction(db, async (tx) => {
    const user = await requireUser(tx, username);
    await setUserPassword(tx, user.id, passwordHash);
    await deleteUserSessions(tx, user.id);
  });
}

/** Enables or disables a user; disabling ends the user's sessions (tokens are refused while disabled). */
export async function setActive(db: Executor, username: string, active: boolean): Promise<void> {
  await inTransaction(db, async (tx) => {
    const user = await requireUser(tx, username);
    await setUserActive(tx, user.id, active);
    if (!active) await deleteUserSessions(tx, user.id);
  });
}

export interface NewApiToken {
  id: number;
  /** Shown once: only its hash is stored. */
  token: string;
  expires_at: Date | null;
}

export const API_TOKEN_PREFIX = "updraft_";

/** Creates an API token for a user; the token is returned once and stored hashed. */
export async function createApiToken(
  db: Executor,
  username: string,
  options: { expiresInS?: number | null; description?: string | null; token?: string } = {},
): Promise<NewApiToken> {
  const user = await requireUser(db, username);
  const token = options.token ?? newSecret(API_TOKEN_PREFIX);
  const row = await insertApiToken(db, {
    userId: user.id,
    tokenHash: secretHash(token),
    description: options.description ?? null,
    expiresInS: options.expiresInS ?? null,
  });
  return { id: row.id, token, expires_at: row.expires_at };
}

export interface NewSession {
  /** The session cookie's value (stored hashed). */
  sessionToken: string;
  /** The CSRF token state-changing requests must send back in X-CSRF-Token (stored hashed). */
  csrfToken: string;
  expiresAt: Date;
}

export async function startSession(db: Executor, userId: number, lifetimeS: number): Promise<NewSession> {
  const sessionToken = newSecret("");
  const csrfToken = newSecret("");
  const expiresAt = await insertSession(db, {
    id: secretHash(sessionToken),
    userId,
    csrfHash: secretHash(csrfToken),
    lifetimeS,
  });
  return { sessionToken, csrfToken, expiresAt };
}
