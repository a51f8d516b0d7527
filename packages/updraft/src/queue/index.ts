/**
 * Redis for the QueueExecutor and its workers (issue 12): connection options from `queue.*` and
 * the workers' registry. Imports only common/ and config/ (and ioredis).
 */
export { redisOptions, redactBrokerUrl, QUEUE_NAME_PATTERN, type QueueSettings } from "./connection.js";
export {
  writeHeartbeat,
  listWorkers,
  forgetWorker,
  type WorkerHeartbeat,
  type WorkerRecord,
  type WorkerTry,
} from "./registry.js";
