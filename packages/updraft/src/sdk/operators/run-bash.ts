import { spawn } from "node:child_process";
import { TaskSkipped } from "../signals.js";

/** Exit code that ends a bash task as skipped unless skipOnExitCode says otherwise, as in Airflow. */
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
    /** Exit codes that skip the task (Airflow skip_on_exit_code); default 99, null for none. */
    skipOnExitCode?: number | readonly number[] | null | undefined;
    /** TextDecoder encoding of stdout (Airflow output_encoding); default utf-8. */
    outputEncoding?: string | undefined;
    signal: AbortSignal;
  },
): Promise<string> {
  const skip = options.skipOnExitCode === undefined ? SKIP_EXIT_CODE : options.skipOnExitCode;
  const skipCodes: readonly number[] = skip === null ? [] : typeof skip === "number" ? [skip] : skip;
  const decoder = new TextDecoder(options.outputEncoding ?? "utf-8");
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
      // Decoded as a stream: a character split across chunks stays whole.
      const text = decoder.decode(chunk, { stream: true });
      process.stdout.write(text);
      pending += text;
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
      const tail = decoder.decode();
      if (tail.length > 0) process.stdout.write(tail);
      pending += tail;
      if (pending.length > 0) lastLine = pending;
      if (code === 0) resolve(lastLine);
      // airflow/operators/bash.py: BashOperator.execute raises AirflowSkipException for an exit
      // code in skip_on_exit_code (before treating any other non-zero code as a failure).
      else if (code !== null && skipCodes.includes(code))
        reject(new TaskSkipped(`Bash command returned exit code ${code}: task skipped.`));
      else if (sig) reject(new Error(`Bash command was killed by ${sig}.`));
      else reject(new Error(`Bash command failed. The command returned a non-zero exit code ${code}.`));
    });
  });
}
