export { LocalExecutor, RUNNER_SCRIPT } from "./local-executor.js";
export type { LocalExecutorOptions } from "./local-executor.js";
