// `updraft workers …`: the QueueExecutor's workers, read from their registry in Redis with the
// queue.* settings. Workers live outside the metadata database, so these commands never use it
// and are never forwarded to a standalone server (like `config`): they run where the user is.
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { loadConfig } from "../../config/index.js";
import type { WorkerJson } from "../../api/rest/workers.js";
import { printJson, printTable, type CliContext } from "./context.js";

// Loaded when a workers command runs: ioredis is for these commands only.
const registryModule = () => import("../../api/rest/workers-registry.js");

const STATE_MARK: Record<WorkerJson["state"], string> = { running: "●", draining: "◐", offline: "○" };

function ago(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

export function registerWorkersCommands(program: Command, ctx: CliContext): void {
  const workers = program
    .command("workers")
    .description("list and forget the QueueExecutor's workers (from Redis)");

  workers
    .command("list")
    .description("every worker seen in the last hour: what it serves, runs, and whether it is alive")
    .option("--queue <queue>", "only workers that take work from this queue")
    .option("--alive", "only running or draining workers")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .action(async (opts: { queue?: string; alive?: boolean; output: string }) => {
      const { notConfiguredMessage, workerRegistry } = await registryModule();
      const { workerJson } = await import("../../api/rest/workers.js");
      const registry = workerRegistry(loadConfig());
      try {
        if (!registry.configured) {
          ctx.io.err(`${notConfiguredMessage(registry)}\n`);
          if (opts.output === "json") printJson(ctx, []);
          return;
        }
        const rows = (await registry.list())
          .map(workerJson)
          .filter((w) => opts.queue === undefined || w.queues.includes(opts.queue))
          .filter((w) => opts.alive !== true || w.state !== "offline")
          .sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
        if (opts.output === "json") {
          printJson(ctx, rows);
          return;
        }
        printTable(
          ctx,
          ["id", "hostname", "queues", "running", "capacity", "state", "last_seen", "finished", "version"],
          rows.map((w) => [
            w.id,
            w.hostname,
            w.queues.join(","),
            `${w.running.length}/${w.concurrency}`,
            // Tries it can start now (its warm runners), which caps what schedulers queue.
            String(w.capacity),
            `${STATE_MARK[w.state]} ${w.state}`,
            ago(w.seconds_since_heartbeat),
            String(w.tries_finished),
            w.version,
          ]),
        );
      } finally {
        await registry.close();
      }
    });

  workers
    .command("forget")
    .description(
      "remove an offline worker from the registry (it is dropped an hour after its last heartbeat anyway)",
    )
    .argument("<worker_id>", "the worker's id, as `workers list` shows it")
    .action(async (id: string) => {
      const { workerRegistry } = await registryModule();
      const registry = workerRegistry(loadConfig());
      try {
        const found = (await registry.list()).find((w) => w.id === id);
        if (found === undefined)
          throw new UpdraftError(
            "WORKER_NOT_FOUND",
            `No worker "${id}" is in the registry. Run \`updraft workers list\` to see them.`,
          );
        if (found.alive)
          throw new UpdraftError(
            "WORKER_ALIVE",
            `Worker "${id}" on ${found.hostname} is alive (heartbeat ${found.seconds_since_heartbeat}s ago) and would reappear at its next heartbeat: stop it first.`,
          );
        await registry.forget(id);
        ctx.io.out(`Worker ${id} forgotten.\n`);
      } finally {
        await registry.close();
      }
    });
}
