import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { notify, openDatabase } from "./open.js";
import { withTestDatabases } from "../../test/db-testing.js";

function nextPayload(received: string[], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (received.length >= count) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > 5000) {
        clearInterval(timer);
        reject(new Error(`only ${received.length} of ${count} notifications arrived`));
      }
    }, 10);
  });
}

withTestDatabases("LISTEN/NOTIFY", (getDb, dialect) => {
  // PostgreSQL only: PGlite has no separate listening connection to kill (it shows as skipped there).
  it.runIf(dialect === "postgres")("listens again after the listening connection is killed", async () => {
    const database = getDb();
    const received: string[] = [];
    const stop = await database.listen("reconnect_test", (p) => received.push(p));
    await sql`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = current_database() and query ilike 'LISTEN%' and pid <> pg_backend_pid()`.execute(
      database.db,
    );
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) {
      await database.notify("reconnect_test", "after");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(received[0]).toBe("after");
    await stop();
  });

  it("delivers notifications, inside transactions only at commit", async () => {
    const database = getDb();
    const received: string[] = [];
    const stop = await database.listen("ti_finished", (p) => received.push(p));
    await database.notify("ti_finished", "one");
    await nextPayload(received, 1);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await notify(trx, "ti_finished", "rolled-back");
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    await database.db.transaction().execute((trx) => notify(trx, "ti_finished", "two"));
    await nextPayload(received, 2);
    expect(received).toEqual(["one", "two"]);
    await stop();
    await database.notify("ti_finished", "three");
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toEqual(["one", "two"]);
    await expect(database.listen("Bad-Name", () => {})).rejects.toMatchObject({ code: "DB_CHANNEL_INVALID" });
  });
});

describe("openDatabase", () => {
  it("maps an unreachable PostgreSQL to DB_UNREACHABLE naming host:port and the setting", async () => {
    const err = await openDatabase({ url: "postgres://nobody:pw@127.0.0.1:1/x" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: "DB_UNREACHABLE" });
    expect(String((err as Error).message)).toContain("127.0.0.1:1");
    expect(String((err as Error).message)).toContain("database.sql_alchemy_conn");
    expect(String((err as Error).message)).not.toContain("pw");
  });

  it("refuses URLs it cannot open", async () => {
    await expect(openDatabase({ url: "sqlite:///x.db" })).rejects.toMatchObject({
      code: "DB_URL_UNSUPPORTED",
    });
  });

  it("opens the embedded database under $UPDRAFT_HOME/db from a config", async () => {
    const home = mkdtempSync(join(tmpdir(), "updraft-home-"));
    try {
      const database = await openDatabase(loadConfig({ home, env: {} }));
      expect(database.dialect).toBe("pglite");
      await database.close();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 30_000);
});
