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
  appendEnv?: boolean;
  /** Working directory (templated). */
  cwd?: string;
}

const FIELDS = ["bashCommand", "env", "appendEnv", "cwd"] as const;

/**
 * Runs a bash command. Exit code 0 succeeds (the last line of stdout becomes the XCom value),
 * 99 skips the task, anything else fails it.
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
    const { bashCommand, env, appendEnv, cwd } = options;
    super(options, { bashCommand, env, appendEnv, cwd }, FIELDS);
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
      signal,
    });
  }
}
