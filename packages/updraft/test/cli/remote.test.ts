// runCliRemotely in-process: the command tree runs on a given database, output is captured, and
// nothing exits or writes to this process's streams.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliRemotely } from "../../src/cli/remote.js";
import type { Database } from "../../src/db/index.js";
import { openTestPGlite } from "../db-testing.js";

let database: Database;

beforeAll(async () => {
  database = await openTestPGlite();
});
afterAll(async () => {
  await database.close();
});

describe("runCliRemotely", () => {
  it("runs database commands on the given database and captures their output", async () => {
    expect(await runCliRemotely(["pools", "set", "unlimited", "-1", "no limit"], { database })).toMatchObject(
      { exit_code: 0 },
    );
    const list = await runCliRemotely(["pools", "list", "-o", "json"], { database });
    expect(JSON.parse(list.stdout)).toContainEqual({
      pool: "unlimited",
      slots: -1,
      description: "no limit",
      include_deferred: false,
    });
    const chunks: string[] = [];
    const got = await runCliRemotely(["pools", "get", "nope"], {
      database,
      onOutput: (s, t) => chunks.push(`${s}:${t}`),
    });
    expect(got.exit_code).toBe(1);
    expect(got.stderr).toMatch(/^Error: Pool "nope" does not exist\..*\[POOL_NOT_FOUND\]\n$/);
    expect(chunks).toEqual([`stderr:${got.stderr}`]);
  });

  it("turns usage errors, --help and non-database commands into replies, never exits", async () => {
    const help = await runCliRemotely(["variables", "--help"], { database });
    expect(help.exit_code).toBe(0);
    expect(help.stdout).toContain("Usage: updraft variables");
    const unknown = await runCliRemotely(["variables", "frobnicate"], { database });
    expect(unknown.exit_code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const local = await runCliRemotely(["config", "list"], { database });
    expect(local.exit_code).toBe(1);
    expect(local.stderr).toContain("[CLI_NOT_REMOTE]");
    expect(local.stdout).toBe("");
  });
});
