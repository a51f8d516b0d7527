// Long-running commands: `standalone` (everything in one process on the embedded database) and
// the components alone, for production against PostgreSQL.
import type { Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { loadConfig, type UpdraftConfig } from "../../config/index.js";
import { listUsers } from "../../db/index.js";
import { parseExecutorSetting } from "../../executors/from-config.js";
import { redactBrokerUrl } from "../../queue/connection.js";
import type { Engine, EngineParts } from "../engine.js";
import { terminalLogger } from "../logger.js";
import { dagsSettings } from "../settings.js";
import { ADMIN_USERNAME, ensureStandaloneAdmin, type StandaloneAdmin } from "../standalone-admin.js";
import { standaloneSecrets, writeStandaloneInfo } from "../standalone-files.js";

const MIN_SECRET = 16;

/**
 * The engine and the server's CLI route, loaded when a long-running command starts: they bring
 * Fastify, BullMQ, OpenTelemetry and the notifiers, which every other command (and `--help`)
 * would otherwise pay for at startup.
 */
async function engineModules() {
  const [engine, cliRoute, remote] = await Promise.all([
    import("../engine.js"),
    import("../../api/rest/cli.js"),
    import("../remote.js"),
  ]);
  return {
    startEngine: engine.startEngine,
    mountCliRoute: cliRoute.mountCliRoute,
    runCliRemotely: remote.runCliRemotely,
  };
}

function requireSecret(config: UpdraftConfig): string {
  const key = config.api.secret_key;
  if (!key || key.length < MIN_SECRET || key === "changeme") {
    throw new UpdraftError(
      "SECRET_KEY_MISSING",
      `api.secret_key is missing or too weak (at least ${MIN_SECRET} characters). Set UPDRAFT__API__SECRET_KEY (the same value on every component); only \`updraft standalone\` generates one.`,
    );
  }
  return key;
}

/** Runs until SIGINT/SIGTERM, then stops the components in order. */
async function runUntilSignal(engine: Engine, cleanup: () => void = () => {}): Promise<void> {
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      process.stderr.write("Shutting down…\n");
      void engine.stop().finally(() => {
        cleanup();
        resolveStop();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * The banner's line about where tasks run. Standalone runs every executor `core.executor` lists;
 * with the QueueExecutor no task runs until a worker takes it, so the line says how to start one.
 */
function standaloneExecutorLine(config: UpdraftConfig): string {
  const names = parseExecutorSetting(config.core.executor);
  if (!names.includes("QueueExecutor")) return `  Executor: ${names.join(", ")}\n`;
  return `  Executor: ${names.join(", ")}: tasks on queues wait for workers; start one in another terminal with \`updraft worker --queues default\` (the same queue.broker_url, ${redactBrokerUrl(config.queue.broker_url)}, and queue.key_prefix "${config.queue.key_prefix}")\n`;
}

function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UpdraftError("INVALID_PORT", `--port ${value} is not a port number (0–65535).`);
  }
  return port;
}

export function registerEngineCommands(program: Command): void {
  program
    .command("standalone")
    .description(
      "run the API server, scheduler, DAG processor, triggerer and the executors of core.executor (LocalExecutor by default; QueueExecutor tasks need `updraft worker`) in one process on the embedded database",
    )
    .option("-p, --port <port>", "port of the API server (default: api.port, 8080)")
    .option("--host <host>", "address to listen on (default: 127.0.0.1; standalone is for one machine)")
    .option("--dags-folder <dir>", "folder of DAG files (default: core.dags_folder)")
    .action(async (opts: { port?: string; host?: string; dagsFolder?: string }) => {
      const started = performance.now();
      const { startEngine, mountCliRoute, runCliRemotely } = await engineModules();
      const base = loadConfig();
      const secrets = standaloneSecrets(base.home);
      const config = loadConfig({
        overrides: {
          "api.secret_key": base.api.secret_key ?? secrets.secret_key,
          "core.fernet_key": base.core.fernet_key ?? secrets.fernet_key,
        },
      });
      const { dagsFolder } = dagsSettings(opts.dagsFolder);
      const logger = terminalLogger();
      const secretKey = config.api.secret_key ?? secrets.secret_key;
      let admin = null as StandaloneAdmin | null;
      const engine = await startEngine({
        config,
        dagsFolder,
        parts: { api: true, scheduler: true, processor: true, triggerer: true },
        logger,
        secretKey,
        port: parsePort(opts.port, config.api.port),
        host: opts.host ?? "127.0.0.1",
        beforeListen: async (api, database, events) => {
          admin = await ensureStandaloneAdmin(database, config.home, secrets.api_token);
          // CLI commands in other terminals run here, on the database this process holds. The
          // API server's access hook lets only Admins in (permission cli:execute).
          mountCliRoute(api.app, ({ argv, cwd }, onOutput) =>
            runCliRemotely(argv, { database, cwd, events, ...(onOutput === undefined ? {} : { onOutput }) }),
          );
        },
      });
      const removeInfo = writeStandaloneInfo(config.home, {
        pid: process.pid,
        url: engine.url ?? "",
        token: secrets.api_token,
        dags_folder: dagsFolder,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const login =
        admin === null
          ? ""
          : admin.createdPassword !== null
            ? `  Login with username: ${ADMIN_USERNAME}  password: ${admin.createdPassword}\n  (shown once; also in ${admin.passwordFile}, readable by you only)\n`
            : `  Login with username: ${ADMIN_USERNAME} (its first password is in ${admin.passwordFile})\n`;
      process.stderr.write(
        `\nUpdraft standalone is ready in ${seconds} s\n  Web UI: ${engine.url}/ (log in with the admin below)\n  API and execution API: ${engine.url}\n  DAGs folder: ${dagsFolder} (DAGs appear as their files are parsed)\n  Data: ${config.home}\n${standaloneExecutorLine(config)}${login}  In another terminal: npx updraft dags list-runs <dag_id>, npx updraft dags trigger <dag_id>\n\n`,
      );
      await runUntilSignal(engine, removeInfo);
    });

  const component = (name: string, description: string, parts: EngineParts): void => {
    program
      .command(name)
      .description(description)
      .option("-p, --port <port>", "port of the API server (api-server only; default api.port)")
      .option("--host <host>", "address to listen on (api-server only)")
      .option("--dags-folder <dir>", "folder of DAG files (default: core.dags_folder)")
      .action(async (opts: { port?: string; host?: string; dagsFolder?: string }) => {
        const config = loadConfig();
        const secretKey = requireSecret(config);
        const { dagsFolder } = dagsSettings(opts.dagsFolder);
        const { startEngine } = await engineModules();
        const engine = await startEngine({
          config,
          dagsFolder,
          parts,
          logger: terminalLogger(),
          secretKey,
          port: parsePort(opts.port, config.api.port),
          host: opts.host ?? config.api.host,
        });
        process.stderr.write(`updraft ${name} is running${engine.url ? ` at ${engine.url}` : ""}.\n`);
        if (parts.api && (await listUsers(engine.database.db)).length === 0) {
          // Every route but health needs credentials: without a user nobody can use the API.
          process.stderr.write(
            "No users exist yet: create an Admin with `updraft users create --username <name> --email <email> --role Admin --use-random-password`.\n",
          );
        }
        await runUntilSignal(engine);
      });
  };
  component("scheduler", "run the scheduler with a LocalExecutor (needs core.execution_api_server_url)", {
    api: false,
    scheduler: true,
    processor: false,
  });
  component("api-server", "run the API server (REST API, execution API, health)", {
    api: true,
    scheduler: false,
    processor: false,
  });
  component("dag-processor", "parse DAG files and write them to the metadata database", {
    api: false,
    scheduler: false,
    processor: true,
  });
  component(
    "triggerer",
    "run deferred tasks' triggers in one event loop (triggerer.capacity at once; several triggerers share the work)",
    { api: false, scheduler: false, processor: false, triggerer: true },
  );
}
