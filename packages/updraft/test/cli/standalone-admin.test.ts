// What `updraft standalone` does for its user on each start: the admin user once (random
// password, printed by the caller, kept in a 0600 file), and a live Admin API token for the CLI
// forwarding, re-issued when it was revoked.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ensureStandaloneAdmin, ADMIN_PASSWORD_FILE } from "../../src/cli/standalone-admin.js";
import { getUser, listApiTokens, revokeApiToken, userByApiToken } from "../../src/db/index.js";
import { secretHash, verifyPassword } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { tempDir } from "../helpers.js";

withTestDatabases(
  "standalone admin",
  (getDb) => {
    it("creates admin once with a random password in a 0600 file, and keeps the forwarding token alive", async () => {
      const db = getDb().db;
      const home = tempDir();
      const token = "standalone-token-0123456789";
      const first = await ensureStandaloneAdmin(getDb(), home, token);
      const password = first.createdPassword ?? "";
      expect(password.length).toBeGreaterThanOrEqual(16);
      const file = join(home, ADMIN_PASSWORD_FILE);
      expect(first.passwordFile).toBe(file);
      expect(readFileSync(file, "utf8").trim()).toBe(password);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const admin = await getUser(db, "admin");
      expect(admin?.roles).toEqual(["Admin"]);
      expect(await verifyPassword(admin?.password ?? "", password)).toBe(true);
      expect((await userByApiToken(db, secretHash(token)))?.username).toBe("admin");

      // A restart: nothing new, the same password still works, the token is the same row.
      const second = await ensureStandaloneAdmin(getDb(), home, token);
      expect(second.createdPassword).toBeNull();
      expect(await listApiTokens(db, admin?.id ?? -1)).toHaveLength(1);

      // The token was revoked: the next start issues it again, so forwarding keeps working.
      const [row] = await listApiTokens(db, admin?.id ?? -1);
      await revokeApiToken(db, row?.id ?? -1);
      expect(await userByApiToken(db, secretHash(token))).toBeUndefined();
      await ensureStandaloneAdmin(getDb(), home, token);
      expect((await userByApiToken(db, secretHash(token)))?.username).toBe("admin");
    });
  },
  { dialects: ["pglite"] },
);
