import type { UpdraftConfig } from "../config/index.js";
import type { LocalExecutorOptions } from "./local/local-executor.js";

/** LocalExecutor options from the configuration (`core.parallelism`); `overrides` win. */
export function localExecutorOptions(
  config: UpdraftConfig,
  overrides: LocalExecutorOptions = {},
): LocalExecutorOptions {
  return { parallelism: config.core.parallelism, ...overrides };
}
