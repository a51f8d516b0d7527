// Helpers for end-to-end tests: real `updraft` processes (the built binary), real databases.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
export const BIN = fileURLToPath(new URL("../../bin/updraft.js", import.meta.url));
export const EXAMPLES = `${REPO}examples/dags`;

/** The DAG ids of examples/dags, sorted (the tutorial's four and the warehouse example's two). */
export const EXAMPLE_DAG_IDS = [
  "critical_pipeline",
  "data_pipeline_lab",
  "ml_training_pipeline",
  "sales_pipeline",
  "warehouse_ingest",
  "warehouse_report",
];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `updraft …` to completion. */
export function updraft(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running `updraft …` process whose stderr is collected. */
export class Daemon {
  readonly child: ChildProcess;
  output = "";
  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
  }

  /** Resolves with the first match of `pattern` in the output, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        const m = this.output.match(pattern);
        if (m) return resolve(m);
        if (this.child.exitCode !== null)
          return reject(
            new Error(`process exited (${this.child.exitCode}) before ${pattern}:\n${this.output}`),
          );
        if (Date.now() - started > timeoutMs)
          return reject(new Error(`timed out waiting for ${pattern}:\n${this.output}`));
        setTimeout(tick, 50);
      };
      tick();
    });
  }

  /** Stops the process with `signal` and resolves with its exit code. */
  stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 20_000): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve(this.child.exitCode);
      const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.child.kill(signal);
    });
  }
}

/** Polls `fn` until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
