import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";
import type { TaskOptions } from "../options.js";
import { runBash } from "./run-bash.js";

/** Options of {@link BashOperator}. */
export interface BashOperatorOptions extends TaskOptions {
  taskId: string;
  /** The command, run with `bash -c`; a template (`echo {{ ds }}`). */
  bashCommand: string;
  /** Environment of the command (templated). Replaces the runner's environment unless `appendEnv`. */
  env?: Record<string, string>;
  /**
   * With `env`: add it to the runner's environment instead of replacing it (Airflow `append_env`).
   * Default false.
   */
  appendEnv?: boolean;
  /**
   * Exit code(s) that end the task as skipped instead of failed (Airflow `skip_on_exit_code`);
   * `null` or `[]` means none. Default 99.
   */
  skipOnExitCode?: number | number[] | null;
  /**
   * Encoding of the command's stdout, as `TextDecoder` names it (`"latin1"`, `"utf-16le"`,
   * `"shift_jis"`…), for the log and the XCom value (Airflow `output_encoding`). Default `"utf-8"`.
   */
  outputEncoding?: string;
  /** Working directory (templated). */
  cwd?: string;
}

const FIELDS = ["bashCommand", "env", "appendEnv", "cwd", "skipOnExitCode", "outputEncoding"] as const;

/**
 * Runs a bash command. Exit code 0 succeeds (the last line of stdout becomes the XCom value),
 * a `skipOnExitCode` (99 by default) skips the task, anything else fails it.
 *
 * @example
 * ```ts
 * new BashOperator({ taskId: "report", bashCommand: "./report.sh --date {{ ds }}", env: { MODE: "full" }, appendEnv: true });
 * ```
 */
export class BashOperator extends BaseOperator {
  readonly operatorName = "BashOperator";
  readonly templateFields = ["bashCommand", "env", "cwd"] as const;
  static readonly mappableFields = ["bashCommand", "env", "cwd"] as const;

  constructor(options: BashOperatorOptions) {
    const { bashCommand, env, appendEnv, cwd, skipOnExitCode, outputEncoding } = options;
    super(options, { bashCommand, env, appendEnv, cwd, skipOnExitCode, outputEncoding }, FIELDS);
    checkBashOptions(options.taskId, skipOnExitCode, outputEncoding);
  }

  /**
   * Starts a mapped BashOperator: fixed options now, per-instance values in `expand`.
   *
   * @example
   * ```ts
   * BashOperator.partial({ taskId: "greet" }).expand({ bashCommand: ["echo a", "echo b"] });
   * ```
   */
  static partial(
    options: Partial<BashOperatorOptions> & { taskId: string },
  ): MappedBuilder<BashOperatorOptions, "bashCommand" | "env" | "cwd"> {
    return mappedOperator(BashOperator, options, BashOperator.mappableFields);
  }

  async execute({ fields, signal }: ExecuteInput): Promise<string> {
    return runBash(String(fields.bashCommand), {
      env: fields.env as Record<string, string> | undefined,
      appendEnv: fields.appendEnv === true,
      cwd: fields.cwd as string | undefined,
      skipOnExitCode: fields.skipOnExitCode as number | number[] | null | undefined,
      outputEncoding: fields.outputEncoding as string | undefined,
      signal,
    });
  }
}

/** Refuses at DAG load what would only fail at run time: a bad exit code list or an unknown encoding. */
function checkBashOptions(taskId: string, skip: unknown, encoding: unknown): void {
  const codes = skip === undefined || skip === null ? [] : Array.isArray(skip) ? skip : [skip];
  if (!codes.every((c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) <= 255)) {
    throw new UpdraftError(
      "INVALID_TASK",
      `BashOperator "${taskId}": skipOnExitCode must be an exit code (0-255), a list of them, or null; got ${JSON.stringify(skip)}.`,
    );
  }
  if (encoding === undefined) return;
  try {
    new TextDecoder(String(encoding));
  } catch {
    throw new UpdraftError(
      "INVALID_OUTPUT_ENCODING",
      `BashOperator "${taskId}": outputEncoding "${String(encoding)}" is not an encoding TextDecoder knows. Use a WHATWG encoding label such as "utf-8", "latin1" or "utf-16le".`,
    );
  }
}
