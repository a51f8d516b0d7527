export { LocalExecutor } from "./local-executor.js";
export { RUNNER_SCRIPT, type LocalExecutorOptions } from "./local-executor-options.js";
