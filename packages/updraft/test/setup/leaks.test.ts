import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { openMemoryDatabase } from "../../src/db/memory-database.js";
import { baseline, describeLeaks, findLeaks } from "./find-leaks.js";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));

describe("the leak check", () => {
  it("names a Database left open, and forgets it once closed", async () => {
    const since = baseline();
    const database = await openMemoryDatabase(tmpdir());
    try {
      const leaks = await findLeaks(since, 0);
      expect(leaks.databases).toEqual([
        { dialect: "pglite", where: "memory", openedAt: expect.stringContaining("leaks.test.ts") },
      ]);
      expect(describeLeaks(leaks)).toMatch(/open pglite Database \(memory\), opened at .*leaks\.test\.ts/);
    } finally {
      await database.close();
    }
    expect(describeLeaks(await findLeaks(since, 0))).toBeNull();
  });

  it("names a child process still running, and waits a moment for one that is exiting", async () => {
    const since = baseline();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)", "leak-probe"], {
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    try {
      const leaks = await findLeaks(since, 0);
      expect(leaks.processes).toEqual([
        { pid: child.pid, command: expect.stringContaining("leak-probe"), started: expect.any(String) },
      ]);
      expect(describeLeaks(leaks)).toContain(`child process ${child.pid}: `);
      // Killed but not yet reaped when the check starts: the grace period lets it go.
      child.kill("SIGTERM");
      expect(await findLeaks(since)).toEqual({ databases: [], processes: [] });
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
  });

  it("names a grandchild that outlived its killed parent", async () => {
    const since = baseline();
    // The child starts a grandchild, says its pid, and waits to be killed.
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const g = require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)", "orphan-probe"], { stdio: "ignore" });
         console.log(g.pid); setTimeout(() => {}, 60_000);`,
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    const exited = new Promise((r) => child.once("exit", r));
    const grandchild = await new Promise<number>((resolve) =>
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    try {
      since.sample();
      child.kill("SIGKILL");
      await exited;
      const leaks = await findLeaks(since, 0);
      expect(leaks.processes).toEqual([
        { pid: grandchild, command: expect.stringContaining("orphan-probe"), started: expect.any(String) },
      ]);
    } finally {
      process.kill(grandchild, "SIGKILL");
    }
    expect(await findLeaks(since)).toEqual({ databases: [], processes: [] });
  });

  it("fails a test file that leaks, through the setup file vitest.config.ts registers", async () => {
    // Without vitest's own variables, so that the inner vitest runs as a top-level one.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")));
    const child = spawn(
      process.execPath,
      [
        join(repo, "node_modules/vitest/vitest.mjs"),
        "run",
        "--config",
        "packages/updraft/test/setup/fixtures/leaky.config.ts",
      ],
      { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise((r) => child.once("exit", r));
    expect(out).toMatch(/left running what it started/);
    expect(out).toMatch(/open pglite Database \(memory\), opened at .*leaky\.fixture\.ts/);
    expect(out).toMatch(/child process \d+: .*leaky-fixture-child/);
    expect(code).toBe(1);
  }, 120_000);
});
