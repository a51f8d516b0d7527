export { QueueExecutor } from "./queue-executor.js";
export { queueExecutorOptions, type QueueExecutorOptions } from "./options.js";
export * from "./protocol.js";
