/** `updraft worker`: the QueueExecutor's remote workers (issue 12). */
export { QueueWorker, type QueueWorkerOptions, type WorkerState } from "./queue-worker.js";
export { startWorkerServer, healthAnswer, type WorkerHealth, type WorkerRoutes } from "./server.js";
