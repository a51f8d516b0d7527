// Shared by the CLI tests: the built binary run as a user runs it, and databases to run it on.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createThrowawayDatabase, type ThrowawayDatabase } from "../db-testing.js";
import { UPDRAFT_BIN, tempDir } from "../helpers.js";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `updraft …args` with `env` on top of a clean environment; resolves when it exits. */
export function updraft(env: NodeJS.ProcessEnv, args: readonly string[], cwd?: string): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env, UPDRAFT__CORE__DAG_FILE_PROCESSOR_TIMEOUT: "20" };
  for (const k of Object.keys(base))
    if (k.startsWith("UPDRAFT__DATABASE") || k === "UPDRAFT_DEBUG") delete base[k];
  delete base["UPDRAFT__CORE__FERNET_KEY"];
  const child = spawn(process.execPath, [UPDRAFT_BIN, ...args], {
    env: { ...base, ...env },
    cwd: cwd ?? process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A failure as the CLI must report it: exit 1, `Error: … [CODE]` on stderr, no stack trace. */
export function expectCleanError(run: Run, code: string): void {
  const ok =
    run.code === 1 &&
    run.stderr.startsWith("Error: ") &&
    run.stderr.includes(`[${code}]`) &&
    !/\n\s+at /.test(run.stderr);
  if (!ok)
    throw new Error(`expected a clean ${code} error, got exit ${run.code}:\n${run.stderr}\n${run.stdout}`);
}

/**
 * A fresh PostgreSQL database, or null (with a loud warning) when PostgreSQL is unreachable.
 * Under CI=true an unreachable PostgreSQL fails the test instead.
 */
export async function postgresOrSkip(): Promise<ThrowawayDatabase | null> {
  try {
    return await createThrowawayDatabase();
  } catch (err) {
    if (process.env["CI"] === "true") throw err;
    console.warn(`\n*** SKIPPING PostgreSQL CLI tests: PostgreSQL is unreachable (${String(err)}) ***\n`);
    return null;
  }
}

/** A DAGs folder with one DAG whose params are checked (`limit`: integer ≤ 1000) and one daily DAG. */
export function paramsDagsFolder(): string {
  const dir = join(tempDir(), "dags");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "params_dag.ts"),
    `import { EmptyOperator, dag, param } from "updraft";
export default dag(
  { dagId: "params_dag", schedule: "@daily", startDate: "2026-01-01", params: { limit: param(100, { type: "integer", maximum: 1000 }) } },
  () => {
    const a = new EmptyOperator({ taskId: "a" });
    const b = new EmptyOperator({ taskId: "b" });
    a.before(b);
  },
);
`,
  );
  return dir;
}
