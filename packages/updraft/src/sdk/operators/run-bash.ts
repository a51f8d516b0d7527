import { spawn } from "node:child_process";
import { TaskSkipped } from "../signals.js";

/** Exit code that ends a bash task as skipped, as in Airflow. */
export const SKIP_EXIT_CODE = 99;

/**
 * Runs a command with bash, streaming its output to this process's stdout/stderr (which the task
 * runner captures into the task log). Resolves with the last line of stdout, Airflow's XCom value.
 */
export function runBash(
  command: string,
  options: {
    env?: Record<string, string> | undefined;
    appendEnv?: boolean;
    cwd?: string | undefined;
    signal: AbortSignal;
  },
): Promise<string> {
  const env = options.env
    ? options.appendEnv
      ? { ...process.env, ...options.env }
      : options.env
    : process.env;
  return new Promise((resolve, reject) => {
    // detached: the command gets its own process group, so a timeout kills its children too.
    const child = spawn("bash", ["-c", command], {
      cwd: options.cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let lastLine = "";
    let pending = "";
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      const nonEmpty = lines.filter((l) => l.length > 0);
      if (nonEmpty.length > 0) lastLine = nonEmpty[nonEmpty.length - 1] ?? lastLine;
    });
    child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    const onAbort = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    child.on("error", (err) => reject(new Error(`Could not start bash: ${err.message}`)));
    child.on("close", (code, sig) => {
      options.signal.removeEventListener("abort", onAbort);
      if (pending.length > 0) lastLine = pending;
      if (code === 0) resolve(lastLine);
      else if (code === SKIP_EXIT_CODE)
        reject(new TaskSkipped(`Bash command exited with code ${SKIP_EXIT_CODE}: task skipped.`));
      else if (sig) reject(new Error(`Bash command was killed by ${sig}.`));
      else reject(new Error(`Bash command failed. The command returned a non-zero exit code ${code}.`));
    });
  });
}
