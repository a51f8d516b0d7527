// Changing and deleting users through the API, under one rule the CLI's single-purpose commands
// do not need to state: the last active Admin can be neither deleted, disabled nor demoted, or
// nobody could manage users again without the database. A new password and disabling end the
// user's sessions in the same transaction (decision 0014).
import { UpdraftError } from "../common/errors.js";
import {
  deleteUser,
  deleteUserSessions,
  inTransaction,
  lockActiveHolders,
  setUserActive,
  setUserPassword,
  setUserProfile,
  setUserRoles,
  type Executor,
  type UserWithRoles,
} from "../db/index.js";
import { checkPasswordStrength, hashPassword } from "./passwords.js";
import { checkEmail, checkUsername, requireUser } from "./users.js";

const ADMIN = "Admin";

export interface UserChanges {
  username?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  roles?: readonly string[];
  active?: boolean;
  /** In clear: hashed here, never stored or logged as given. */
  password?: string;
}

function lastAdmin(username: string, what: string): UpdraftError {
  return new UpdraftError(
    "USER_LAST_ADMIN",
    `"${username}" is the last active Admin: ${what} would leave nobody able to manage users. Give another active user the Admin role first.`,
    { details: { username } },
  );
}

/** USER_LAST_ADMIN when `user` is the only active holder of Admin (call inside the transaction). */
async function refuseIfLastAdmin(tx: Executor, user: UserWithRoles, what: string): Promise<void> {
  const holders = await lockActiveHolders(tx, ADMIN);
  if (holders.length === 1 && holders[0] === user.id) throw lastAdmin(user.username, what);
}

/** Applies `changes` to a user in one transaction; returns the user's name afterwards. */
export async function updateUser(db: Executor, username: string, changes: UserChanges): Promise<string> {
  const nextName = changes.username ?? username;
  if (changes.username !== undefined) checkUsername(changes.username);
  if (changes.email !== undefined) checkEmail(changes.email);
  if (changes.roles !== undefined && changes.roles.length === 0) {
    throw new UpdraftError("USER_INVALID", "A user needs a role: Admin, Op, User or Viewer.");
  }
  if (changes.password !== undefined) checkPasswordStrength(nextName, changes.password);
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  await inTransaction(db, async (tx) => {
    const user = await requireUser(tx, username);
    const demoted =
      changes.roles !== undefined && user.roles.includes(ADMIN) && !changes.roles.includes(ADMIN);
    if (user.active && user.roles.includes(ADMIN)) {
      if (changes.active === false) await refuseIfLastAdmin(tx, user, "disabling them");
      else if (demoted) await refuseIfLastAdmin(tx, user, "taking the Admin role away");
    }
    await setUserProfile(tx, user.id, {
      ...(changes.username === undefined ? {} : { username: changes.username }),
      ...(changes.email === undefined ? {} : { email: changes.email }),
      ...(changes.firstName === undefined ? {} : { firstName: changes.firstName }),
      ...(changes.lastName === undefined ? {} : { lastName: changes.lastName }),
    });
    if (changes.roles !== undefined) await setUserRoles(tx, user.id, changes.roles);
    if (changes.active !== undefined) await setUserActive(tx, user.id, changes.active);
    if (passwordHash !== undefined) await setUserPassword(tx, user.id, passwordHash);
    if (passwordHash !== undefined || changes.active === false) await deleteUserSessions(tx, user.id);
  });
  return nextName;
}

/** Deletes a user with their tokens and sessions; never the last active Admin. */
export async function removeUser(db: Executor, username: string): Promise<void> {
  await inTransaction(db, async (tx) => {
    const user = await requireUser(tx, username);
    if (user.active && user.roles.includes(ADMIN)) await refuseIfLastAdmin(tx, user, "deleting them");
    await deleteUser(tx, username);
  });
}
