// Passwords: argon2id hashes (OWASP's first choice), and the rule a new password must pass.
import { hash, verify } from "@node-rs/argon2";
import { UpdraftError } from "../common/errors.js";

export const MIN_PASSWORD_LENGTH = 8;

/** The tutorial's placeholder: a server refuses it even if it was stored some other way. */
export const TUTORIAL_PASSWORD = "changeme";

/** PASSWORD_WEAK unless `password` is at least 8 characters, not `changeme`, not the user name. */
export function checkPasswordStrength(username: string, password: string): void {
  const weak = (why: string): UpdraftError =>
    new UpdraftError(
      "PASSWORD_WEAK",
      `The password for "${username}" is refused: ${why}. Choose another one, or let Updraft make one with --use-random-password.`,
      { details: { username } },
    );
  if (password === "") throw weak("it is empty");
  if (password.length < MIN_PASSWORD_LENGTH)
    throw weak(`it is shorter than ${MIN_PASSWORD_LENGTH} characters`);
  if (password.toLowerCase() === TUTORIAL_PASSWORD)
    throw weak(`"${TUTORIAL_PASSWORD}" is the tutorial's example`);
  if (password.toLowerCase() === username.toLowerCase()) throw weak("it is the user name");
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** False for a wrong password or a hash that is not argon2's (never throws for those). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// A hash of nothing anyone knows: verified against when the user does not exist, so that the
// answer takes as long for an unknown user as for a wrong password.
let dummy: Promise<string> | undefined;
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hash("updraft-no-such-user-placeholder");
  await verifyPassword(await dummy, password);
  return false;
}
