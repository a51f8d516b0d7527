/** `updraft worker`: the QueueExecutor's remote workers (issue 12). */
export { QueueWorker, type QueueWorkerOptions, type WorkerState } from "./queue-worker.js";
export { startWorkerServer, healthAnswer, type WorkerHealth, type WorkerRoutes } from "./server.js";
export { logRequestHandler, LOG_ROUTE_PREFIX, type LogServerOptions } from "./log-server.js";
