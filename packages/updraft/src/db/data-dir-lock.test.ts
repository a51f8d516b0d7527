import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_FILE, lockDataDir } from "./data-dir-lock.js";
import { openDatabase } from "./open.js";

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "updraft-lock-"));
  dirs.push(dir);
  return dir;
}

/** Bundles a tiny program that opens the database, writes a row, says "ready" and waits. */
async function holderScript(): Promise<string> {
  const outDir = join(here, "../../node_modules/.cache/updraft-test");
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `hold-database-${process.pid}.mjs`);
  dirs.push(outfile);
  await build({
    stdin: {
      contents: `
        import { openDatabase } from "./open.js";
        import { migrate } from "./migrate.js";
        const database = await openDatabase({ dataDir: process.argv[2] });
        await migrate(database);
        await database.db.insertInto("variable").values({ key: "from_child", val: "1", description: null }).execute();
        process.stdout.write("ready\\n");
        setInterval(() => {}, 1000);`,
      resolveDir: here,
      loader: "ts",
    },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    outfile,
    logLevel: "silent",
    plugins: [
      {
        // Each module keeps its own import.meta.url, as under vitest: the database finds its worker
        // thread's script beside its source.
        name: "source-import-meta-url",
        setup(b) {
          b.onLoad({ filter: /\.ts$/ }, async (args) => ({
            contents: (await readFile(args.path, "utf8")).replaceAll(
              "import.meta.url",
              JSON.stringify(pathToFileURL(args.path).href),
            ),
            loader: "ts",
          }));
        },
      },
    ],
  });
  return outfile;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    });
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`holder exited with ${code}: ${err}`)));
  });
}

describe("PGlite data directory lock", () => {
  it("refuses a second process with DB_LOCKED, then takes over after the holder is SIGKILLed", async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, [await holderScript(), dataDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      await waitReady(child);
      const err = await openDatabase({ dataDir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: "DB_LOCKED" });
      expect(String((err as Error).message)).toContain(String(child.pid));
      expect(String((err as Error).message)).toContain("server");
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    // The lock is now stale (dead pid): the next opener takes it, and the data is intact.
    expect(readFileSync(join(dataDir, LOCK_FILE), "utf8").trim()).toBe(String(child.pid));
    const database = await openDatabase({ dataDir });
    try {
      const row = await database.db
        .selectFrom("variable")
        .selectAll()
        .where("key", "=", "from_child")
        .executeTakeFirst();
      expect(row?.val).toBe("1");
      await expect(openDatabase({ dataDir })).rejects.toMatchObject({ code: "DB_LOCKED" });
    } finally {
      await database.close();
    }
  }, 60_000);

  it("releases the lock on release and replaces a lock left by a dead pid", () => {
    const dir = tempDir();
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(expect.objectContaining({ code: "DB_LOCKED" }));
    release();
    writeFileSync(join(dir, LOCK_FILE), "999999999\n");
    lockDataDir(dir)();
  });
});
