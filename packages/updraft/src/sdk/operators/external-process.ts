import { spawn } from "node:child_process";
import { dirname, isAbsolute, resolve } from "node:path";
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { TaskSkipped } from "../signals.js";
import { pick } from "./sql.js";
import { MAPPED_VALUE, mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link ExternalProcessOperator}. */
export interface ExternalProcessOperatorOptions extends TaskOptions {
  taskId: string;
  /** The program that runs the script, with its own arguments: `"python3"`, `["python3", "-u"]`, `"/opt/venv/bin/python"`. Default `python3`. */
  interpreter?: string | string[];
  /** The script, relative to the DAG file's folder (templated). */
  script: string;
  /** Arguments after the script (templated: `["--date", "{{ ds }}"]`). */
  args?: string[];
  /** Environment (templated), added to the runner's unless `appendEnv: false`. */
  env?: Record<string, string>;
  /** Default true: `env` is added to the runner's environment; false replaces it. */
  appendEnv?: boolean;
  /** Working directory (templated). Default the script's folder. */
  cwd?: string;
  /** Exit code(s) that end the task as skipped. Default none. */
  skipOnExitCode?: number | number[];
}

const FIELDS = ["interpreter", "script", "args", "env", "appendEnv", "cwd", "skipOnExitCode"] as const;
const STDERR_TAIL_LINES = 20;
const STDERR_TAIL_BYTES = 4096;

/** The last non-empty line of `text` that is JSON, parsed; undefined when none is. */
export function lastJsonLine(lines: readonly string[]): { found: boolean; value: unknown } {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    try {
      return { found: true, value: JSON.parse(line) as unknown };
    } catch {
      // not JSON: keep looking upwards
    }
  }
  return { found: false, value: undefined };
}

/**
 * Runs a script in another language with its own interpreter and environment (`python3 etl.py`),
 * its stdout and stderr streamed to the task log. The last line of stdout that is JSON becomes
 * the XCom value; a non-zero exit fails the task with the end of stderr in the error.
 *
 * @example
 * ```ts
 * new ExternalProcessOperator({
 *   taskId: "score", interpreter: "/opt/ml/venv/bin/python", script: "scripts/score.py",
 *   args: ["--date", "{{ ds }}"], env: { MODEL: "v3" },
 * });
 * ```
 */
export class ExternalProcessOperator extends BaseOperator {
  readonly operatorName = "ExternalProcessOperator";
  static readonly mappableFields = ["script", "args", "env"] as const;

  /**
   * Starts a mapped ExternalProcessOperator: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * ExternalProcessOperator.partial({ taskId: "score", script: "score.py" }).expand({ args: [["--part", "1"], ["--part", "2"]] });
   * ```
   */
  static partial(
    options: Partial<ExternalProcessOperatorOptions> & { taskId: string },
  ): MappedBuilder<ExternalProcessOperatorOptions, "script" | "args" | "env"> {
    return mappedOperator(ExternalProcessOperator, options, ExternalProcessOperator.mappableFields);
  }
  readonly templateFields = ["script", "args", "env", "cwd"] as const;
  private child: ReturnType<typeof spawn> | null = null;

  constructor(options: ExternalProcessOperatorOptions) {
    super(options, pick(options, FIELDS), FIELDS);
    if (
      (options.script as unknown) !== MAPPED_VALUE &&
      (typeof options.script !== "string" || options.script.trim() === "")
    )
      throw new UpdraftError(
        "INVALID_TASK",
        `ExternalProcessOperator "${options.taskId}": give the script to run, e.g. script: "etl.py".`,
      );
  }

  execute({ fields, signal }: ExecuteInput): Promise<unknown> {
    const dagFile = this.callSite.file();
    const dagDir = dagFile === undefined ? process.cwd() : dirname(dagFile);
    const script = String(fields.script);
    const scriptPath = isAbsolute(script) ? script : resolve(dagDir, script);
    const interp =
      fields.interpreter === undefined
        ? ["python3"]
        : Array.isArray(fields.interpreter)
          ? fields.interpreter.map(String)
          : [String(fields.interpreter)];
    const [program = "python3", ...interpArgs] = interp;
    const args = [...interpArgs, scriptPath, ...(Array.isArray(fields.args) ? fields.args.map(String) : [])];
    const own = (fields.env ?? {}) as Record<string, string>;
    const env = fields.appendEnv === false ? own : { ...process.env, ...own };
    const cwd = typeof fields.cwd === "string" ? fields.cwd : dirname(scriptPath);
    const skip =
      fields.skipOnExitCode === undefined
        ? []
        : Array.isArray(fields.skipOnExitCode)
          ? fields.skipOnExitCode
          : [fields.skipOnExitCode];
    console.log(`Running ${[program, ...args].join(" ")} (cwd ${cwd})`);
    return new Promise((resolvePromise, reject) => {
      const child = spawn(program, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      this.child = child;
      const out = new TextDecoder();
      let pending = "";
      const lines: string[] = [];
      let stderrTail = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        const text = out.decode(chunk, { stream: true });
        process.stdout.write(text);
        pending += text;
        const parts = pending.split("\n");
        pending = parts.pop() ?? "";
        for (const p of parts) if (p.trim() !== "") lines.push(p);
        if (lines.length > 50) lines.splice(0, lines.length - 50);
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        process.stderr.write(chunk);
        stderrTail = (stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES * 2);
      });
      const kill = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      };
      signal.addEventListener("abort", kill, { once: true });
      child.on("error", (err) => {
        signal.removeEventListener("abort", kill);
        reject(
          new UpdraftError(
            "EXTERNAL_PROCESS_FAILED",
            `Could not start ${program}: ${err.message}. Is the interpreter installed and on PATH?`,
            { cause: err },
          ),
        );
      });
      child.on("close", (code, sig) => {
        signal.removeEventListener("abort", kill);
        this.child = null;
        pending += out.decode();
        if (pending.trim() !== "") lines.push(pending);
        if (code === 0) {
          const last = lastJsonLine(lines);
          if (last.found) console.log("Pushing the last JSON line of stdout as XCom.");
          return resolvePromise(last.found ? last.value : undefined);
        }
        if (code !== null && skip.includes(code))
          return reject(new TaskSkipped(`The script exited with code ${code}: task skipped.`));
        const tail = stderrTail
          .split("\n")
          .filter((l) => l.trim() !== "")
          .slice(-STDERR_TAIL_LINES)
          .join("\n")
          .slice(-STDERR_TAIL_BYTES);
        reject(
          new UpdraftError(
            "EXTERNAL_PROCESS_FAILED",
            `${program} ${script} ${sig !== null ? `was killed by ${sig}` : `exited with code ${code}`}.${tail === "" ? " It wrote nothing to stderr." : `\nLast lines of stderr:\n${tail}`}`,
            { details: { exit_code: code } },
          ),
        );
      });
    });
  }

  override onKill(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}
