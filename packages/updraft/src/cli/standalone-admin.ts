// The user `updraft standalone` makes for the person who started it: `admin` (role Admin) with a
// random password, printed once and kept in $UPDRAFT_HOME/standalone_admin_password.txt (0600),
// and the Admin API token through which CLI commands of other terminals reach the server (kept
// in standalone-secrets.json, 0600, stored hashed in the database like any token).
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deleteApiTokenByHash, getUser, userByApiToken, type Database } from "../db/index.js";
import { createApiToken, createUser, randomPassword, secretHash } from "../services/index.js";

export const ADMIN_USERNAME = "admin";
export const ADMIN_PASSWORD_FILE = "standalone_admin_password.txt";

export interface StandaloneAdmin {
  /** The new password when the admin user was created now; null when it existed. */
  createdPassword: string | null;
  passwordFile: string;
}

export async function ensureStandaloneAdmin(
  database: Database,
  home: string,
  apiToken: string,
): Promise<StandaloneAdmin> {
  const db = database.db;
  const passwordFile = join(home, ADMIN_PASSWORD_FILE);
  let createdPassword: string | null = null;
  if ((await getUser(db, ADMIN_USERNAME)) === undefined) {
    createdPassword = randomPassword();
    await createUser(db, {
      username: ADMIN_USERNAME,
      email: "admin@localhost",
      password: createdPassword,
      roles: ["Admin"],
      firstName: "Standalone",
      lastName: "Admin",
    });
    writeFileSync(passwordFile, `${createdPassword}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
  }
  if ((await userByApiToken(db, secretHash(apiToken))) === undefined) {
    // First start, or the token was revoked: (re)issue the one standalone.json hands to the CLI.
    await deleteApiTokenByHash(db, secretHash(apiToken));
    await createApiToken(db, ADMIN_USERNAME, {
      token: apiToken,
      description: "updraft standalone: CLI commands from other terminals",
    });
  }
  return { createdPassword, passwordFile };
}
