// `updraft worker`: a long-lived worker of the QueueExecutor (issue 12, decision 0025). Takes
// work from Redis, runs it in warm runner processes, reports to the scheduler that queued it.
// Never opens the metadata database. SIGTERM or SIGINT drains, then the process exits 0.
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { loadConfig } from "../../config/index.js";
import { QUEUE_NAME_PATTERN, redactBrokerUrl, redisOptions } from "../../queue/index.js";
import type { WorkerRoutes } from "../../worker/index.js";
import { terminalLogger } from "../logger.js";

function intFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UpdraftError("WORKER_OPTION_INVALID", `--${name} ${value} is not an integer ≥ ${min}.`);
  return n;
}

export function parseQueues(value: string): string[] {
  const queues = [
    ...new Set(
      value
        .split(",")
        .map((q) => q.trim())
        .filter((q) => q !== ""),
    ),
  ];
  if (queues.length === 0)
    throw new UpdraftError("QUEUE_NAME_INVALID", "No queue given: name at least one, e.g. --queues default.");
  for (const q of queues)
    if (!QUEUE_NAME_PATTERN.test(q))
      throw new UpdraftError(
        "QUEUE_NAME_INVALID",
        `The queue "${q}" is not a valid queue name: use letters, digits, "_", "-" and "." (at most 100).`,
      );
  return queues;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "run a QueueExecutor worker: take tries from Redis queues and run them in warm runner processes (SIGTERM drains)",
    )
    .option(
      "-q, --queues <queues>",
      "comma-separated queues to take work from (default: worker.queues, default)",
    )
    .option("-c, --concurrency <n>", "tries run at once across all queues (default: worker.concurrency, 16)")
    .option(
      "--max-tasks <n>",
      "exit 0 after this many tries, to be restarted (default: worker.max_tasks, 0 = never)",
    )
    .option("--server-port <port>", "port of /health and /log/… (default: worker.server_port, 8793; 0 = off)")
    .action(
      async (opts: { queues?: string; concurrency?: string; maxTasks?: string; serverPort?: string }) => {
        const overrides: Record<string, unknown> = {};
        if (opts.queues !== undefined) overrides["worker.queues"] = opts.queues;
        const concurrency = intFlag("concurrency", opts.concurrency, 1);
        if (concurrency !== undefined) overrides["worker.concurrency"] = concurrency;
        const maxTasks = intFlag("max-tasks", opts.maxTasks, 0);
        if (maxTasks !== undefined) overrides["worker.max_tasks"] = maxTasks;
        const serverPort = intFlag("server-port", opts.serverPort, 0);
        if (serverPort !== undefined) overrides["worker.server_port"] = serverPort;
        const config = loadConfig({ overrides });
        // Loaded here, not at the top: BullMQ and ioredis are for this command only.
        const { LOG_ROUTE_PREFIX, QueueWorker, logRequestHandler, startWorkerServer } = await import(
          "../../worker/index.js"
        );
        const w = config.worker;
        const queues = parseQueues(w.queues);
        const redis = redisOptions(config.queue);
        const logger = terminalLogger().child({ component: "worker" });
        const serverUrl =
          w.server_port === 0 ? null : (w.server_url ?? `http://${hostname()}:${w.server_port}`);
        const worker = new QueueWorker({
          redis,
          prefix: config.queue.key_prefix,
          queues,
          concurrency: w.concurrency,
          heartbeatIntervalMs: w.heartbeat_interval * 1000,
          staleAfterS: w.stale_after,
          runnerProcesses: w.runner_processes,
          drainTimeoutMs: w.drain_timeout * 1000,
          maxTasks: w.max_tasks,
          serverUrl,
          logger,
          // Its runners write logs where its log server serves them: this machine's folder, not
          // the scheduler's path (which need not exist here).
          local: { logFolder: resolve(config.logging.base_log_folder) },
        });
        // Logs of the tries this worker ran, for the API server (signed with the shared api.secret_key).
        const routes: WorkerRoutes = {
          [LOG_ROUTE_PREFIX]: logRequestHandler({
            baseLogFolder: config.logging.base_log_folder,
            secretKey: config.api.secret_key,
          }),
        };
        const server =
          w.server_port === 0
            ? null
            : await startWorkerServer(
                w.server_port,
                "0.0.0.0",
                () => ({
                  connected: worker.connected,
                  state: worker.state,
                  id: worker.id,
                  queues,
                  concurrency: w.concurrency,
                  running: worker.runningCount,
                  tries_finished: worker.finished,
                }),
                routes,
              );
        const stop = (signal: string): void => {
          process.stderr.write(`${signal}: draining (running tries finish, up to ${w.drain_timeout} s)…\n`);
          void worker.drain(`${signal} received`);
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
        process.stderr.write(
          `Updraft worker ${worker.id}: queues ${queues.join(",")}, concurrency ${w.concurrency}, Redis ${redactBrokerUrl(config.queue.broker_url)}${server === null ? "" : `, health ${server.url}/health`}\n`,
        );
        await worker.start();
        process.stderr.write(`Updraft worker ${worker.id} is taking work\n`);
        await worker.stopped();
        server?.server.close();
        process.stderr.write(`Updraft worker ${worker.id} stopped after ${worker.finished} tries\n`);
        process.exit(0);
      },
    );
}
