import { expect, it } from "vitest";
import { createCipher, generateFernetKey } from "../cipher.js";
import { withTestDatabases } from "../../../test/db-testing.js";
import { deleteConnection, getConnection, listConnections, setConnection } from "./connection.js";
import { deleteVariable, getVariable, listVariables, setVariable } from "./variable.js";

const KEY = generateFernetKey();
const conn = {
  connId: "warehouse",
  connType: "postgres",
  description: null,
  host: "db.internal",
  schema: "public",
  login: "etl",
  password: "hunter2-plaintext",
  port: 5432,
  extra: '{"sslmode":"require","token":"extra-secret"}',
};

withTestDatabases("connections and variables", (getDb) => {
  it("encrypts connection password and extra at rest", async () => {
    const { db } = getDb();
    const cipher = createCipher(KEY);
    await setConnection(db, cipher, conn);
    const raw = await db
      .selectFrom("connection")
      .selectAll()
      .where("conn_id", "=", "warehouse")
      .executeTakeFirstOrThrow();
    expect(raw.password).not.toContain("hunter2");
    expect(raw.extra).not.toContain("extra-secret");
    expect(raw.is_encrypted).toBe(true);
    expect(await getConnection(db, cipher, "warehouse")).toEqual(conn);
    expect((await listConnections(db, cipher))[0]).toEqual({ ...conn, password: null });
  });

  it("fails clearly with a missing or wrong key", async () => {
    const { db } = getDb();
    await expect(getConnection(db, createCipher(null), "warehouse")).rejects.toMatchObject({
      code: "CONNECTION_KEY_MISSING",
    });
    await expect(getConnection(db, createCipher(generateFernetKey()), "warehouse")).rejects.toMatchObject({
      code: "CONNECTION_KEY_INVALID",
    });
    await expect(setConnection(db, createCipher(undefined), { ...conn, connId: "x" })).rejects.toMatchObject({
      code: "CONNECTION_KEY_MISSING",
    });
    // Rotation: the new key first, the old one after it.
    const rotated = createCipher(`${generateFernetKey()},${KEY}`);
    expect((await getConnection(db, rotated, "warehouse"))?.password).toBe(conn.password);
    expect(await deleteConnection(db, "warehouse")).toBe(true);
    expect(await deleteConnection(db, "warehouse")).toBe(false);
  });

  it("stores variables encrypted when a key is set, plainly otherwise", async () => {
    const { db } = getDb();
    const cipher = createCipher(KEY);
    await setVariable(db, cipher, { key: "secret", val: "v1", description: "d" });
    await setVariable(db, createCipher(null), { key: "plain", val: "v2", description: null });
    const raw = await db.selectFrom("variable").selectAll().orderBy("key").execute();
    expect(raw.map((r) => [r.key, r.is_encrypted, r.val === "v1"])).toEqual([
      ["plain", false, false],
      ["secret", true, false],
    ]);
    expect(await getVariable(db, cipher, "secret")).toEqual({ key: "secret", val: "v1", description: "d" });
    expect((await listVariables(db, cipher)).map((v) => v.val)).toEqual(["v2", "v1"]);
    expect(await deleteVariable(db, "plain")).toBe(true);
    expect(await getVariable(db, cipher, "plain")).toBeUndefined();
  });
});
