// Two real processes on one embedded database: one holds the PGlite data directory open and
// serves runCliRemotely over HTTP (as `updraft standalone` will), the other is the `updraft`
// binary, which must forward its database commands there instead of failing on the lock.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT, cleanupTempDirs, copyFixture, tempDir } from "../helpers.js";
import { expectCleanError, updraft, type Run } from "./cli-helpers.js";

const DIST = join(PACKAGE_ROOT, "dist");
const TOKEN = "test-token-0123456789";

const HOLDER = `
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
const { loadConfig } = await import(${JSON.stringify(join(DIST, "config/index.js"))});
const { openDatabase, migrate } = await import(${JSON.stringify(join(DIST, "db/index.js"))});
const { runCliRemotely, cliRequestSchema } = await import(${JSON.stringify(join(DIST, "cli/remote.js"))});
const config = loadConfig();
const database = await openDatabase(config);
await migrate(database);
let mode = "ndjson";
const server = createServer(async (req, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  if (req.url === "/__mode/json") { mode = "json"; res.end("ok"); return; }
  if (req.method !== "POST" || req.url !== "/api/v1/cli") { res.statusCode = 404; res.end(); return; }
  if (req.headers.authorization !== "Bearer ${TOKEN}") {
    res.statusCode = 401;
    res.setHeader("content-type", "application/problem+json");
    res.end(JSON.stringify({ status: 401, detail: "The API token is missing or wrong." }));
    return;
  }
  const parsed = cliRequestSchema.safeParse(JSON.parse(body));
  if (!parsed.success) { res.statusCode = 422; res.end(); return; }
  const { argv, cwd } = parsed.data;
  if (mode === "ndjson" && String(req.headers.accept).includes("ndjson")) {
    res.setHeader("content-type", "application/x-ndjson");
    const onOutput = (stream, text) => res.write(JSON.stringify({ [stream]: text }) + "\\n");
    const result = await runCliRemotely(argv, { database, cwd, onOutput });
    res.end(JSON.stringify({ exit_code: result.exit_code }) + "\\n");
  } else {
    const result = await runCliRemotely(argv, { database, cwd });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(result));
  }
});
server.listen(0, "127.0.0.1", () => {
  const url = "http://127.0.0.1:" + server.address().port;
  writeFileSync(join(config.home, "standalone.json"), JSON.stringify({ pid: process.pid, url, token: "${TOKEN}" }), { mode: 0o600 });
  process.stdout.write("ready\\n");
});
process.on("SIGTERM", () => { server.close(); database.close().finally(() => process.exit(0)); });
`;

let home: string;
let holder: ChildProcess;
let env: NodeJS.ProcessEnv;
let dagsFolder: string;

const run = (...args: string[]): Promise<Run> => updraft(env, args, home);

beforeAll(async () => {
  home = tempDir();
  env = { UPDRAFT_HOME: home };
  dagsFolder = copyFixture("dags-good");
  const script = join(home, "holder.mjs");
  writeFileSync(script, HOLDER);
  holder = spawn(process.execPath, [script], {
    env: { ...process.env, UPDRAFT_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  holder.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) resolve();
    });
    holder.on("exit", (code) => reject(new Error(`the holder exited (${code}): ${err}`)));
  });
}, 120_000);

afterAll(() => {
  if (holder.exitCode === null) holder.kill("SIGKILL");
  cleanupTempDirs();
});

describe("CLI commands while another process holds the embedded database", () => {
  it("are forwarded to it: variables, reserialize with a relative path, trigger, list-runs, errors", async () => {
    const set = await run("variables", "set", "greeting", "hello there");
    expect(set.stdout, set.stderr).toBe("Variable greeting set.\n");
    expect(set.code).toBe(0);
    // A relative --dags-folder is resolved against the caller's directory, not the server's.
    const parsed = await updraft(
      env,
      ["dags", "reserialize", "--dags-folder", "dags-good"],
      dirname(dagsFolder),
    );
    expect(parsed.stdout, parsed.stderr).toContain("2 DAG(s) written (example, reporting)");
    const [get, trigger, unknown, missingVar, usage] = await Promise.all([
      run("variables", "get", "greeting"),
      run("dags", "trigger", "example", "--logical-date", "2026-02-01", "--run-id", "fwd1"),
      run("dags", "trigger", "no_such_dag"),
      run("variables", "get", "nope"),
      run("variables", "get"),
    ]);
    expect(get.stdout).toBe("hello there\n");
    expect(trigger.stdout, trigger.stderr).toContain("Created DAG run fwd1 of example");
    expectCleanError(unknown, "DAG_NOT_FOUND");
    expectCleanError(missingVar, "VARIABLE_NOT_FOUND");
    // Usage errors are commander's own, before anything is forwarded.
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("missing required argument 'key'");

    await fetch(
      `${(JSON.parse(readFileSync(join(home, "standalone.json"), "utf8")) as { url: string }).url}/__mode/json`,
    );
    const runs = await run("dags", "list-runs", "example", "-o", "json");
    expect(runs.code, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual([
      expect.objectContaining({
        dag_id: "example",
        run_id: "fwd1",
        state: "queued",
        run_type: "manual",
        logical_date: "2026-02-01T00:00:00.000Z",
      }),
    ]);
    // A command that does not need the database runs here, the lock notwithstanding.
    const list = await run("dags", "list", "--dags-folder", dagsFolder, "-o", "json");
    expect(list.code, list.stderr).toBe(0);
  }, 90_000);

  it("reports a refused token, and DB_LOCKED as is when no server is registered", async () => {
    const file = join(home, "standalone.json");
    const info = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...info, token: "wrong" }));
    const refused = await run("variables", "get", "greeting");
    expectCleanError(refused, "CLI_FORWARD_FAILED");
    expect(refused.stderr).toContain("HTTP 401 (The API token is missing or wrong.)");
    renameSync(file, `${file}.away`);
    const locked = await run("variables", "get", "greeting");
    expectCleanError(locked, "DB_LOCKED");
    renameSync(`${file}.away`, file);
  }, 60_000);

  it("works on its own once the server is gone (its file names a dead pid)", async () => {
    holder.kill("SIGKILL");
    await new Promise((r) => holder.once("exit", r));
    expect(existsSync(join(home, "standalone.json"))).toBe(true);
    const get = await run("variables", "get", "greeting");
    expect(get.stdout, get.stderr).toBe("hello there\n");
    rmSync(join(home, "standalone.json"));
  }, 60_000);
});
