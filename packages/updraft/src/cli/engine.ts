// Assembles Updraft's components in one process: `standalone` runs all of them, `scheduler`,
// `api-server` and `dag-processor` run one each, `dags test` runs all on a throwaway database.
import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "pino";
import { createApiServer, type ApiServer } from "../api/index.js";
import type { UpdraftConfig } from "../config/index.js";
import { migrate, openDatabase, type Database } from "../db/index.js";
import { EngineEvents } from "../events/engine-events.js";
import { LocalExecutor, localExecutorOptions, type Executor } from "../executors/index.js";
import { DagFileProcessor } from "../processor/index.js";
import { Scheduler } from "../scheduler/index.js";
import { syncDagBag } from "../services/index.js";

export interface EngineParts {
  api: boolean;
  scheduler: boolean;
  processor: boolean;
}

export interface StartEngineOptions {
  config: UpdraftConfig;
  dagsFolder: string;
  parts: EngineParts;
  logger: Logger;
  secretKey: string;
  port?: number;
  host?: string;
  /** Use this database instead of opening the configured one (e.g. an in-memory one). */
  database?: Database;
  /** REST API token; when set, every route but health needs it. */
  apiToken?: string;
  /** Called with the API server before it listens, to mount extra routes. */
  beforeListen?: (api: ApiServer, database: Database, events: EngineEvents) => void | Promise<void>;
  /** URL runners use to reach the execution API when the API runs elsewhere. */
  apiUrl?: string;
}

/** The running components; `stop()` shuts them down in reverse order. */
export class Engine {
  url: string | null = null;
  private stops: (() => Promise<void>)[] = [];
  constructor(
    readonly database: Database,
    readonly events: EngineEvents,
  ) {}

  /** @internal */
  onStop(fn: () => Promise<void>): void {
    this.stops.push(fn);
  }

  async stop(): Promise<void> {
    for (const fn of this.stops.reverse()) {
      try {
        await fn();
      } catch {
        // Keep stopping the rest.
      }
    }
    this.stops = [];
  }
}

/** Parses the DAG folder now, then on file changes and every `dag_dir_list_interval`. */
async function startProcessor(engine: Engine, o: StartEngineOptions): Promise<DagFileProcessor> {
  const log = o.logger.child({ component: "dag-processor" });
  const processor = new DagFileProcessor(o.dagsFolder, {
    parsingProcesses: o.config.dag_processor.parsing_processes,
    timeoutSeconds: o.config.core.dag_file_processor_timeout,
    cacheDir: `${o.config.home}/cache/dags`,
  });
  let running: Promise<void> | null = null;
  let again = false;
  const refresh = async (): Promise<void> => {
    const changes = await processor.refresh();
    const result = await syncDagBag(engine.database.db, changes, {
      pausedAtCreation: o.config.core.dags_are_paused_at_creation,
      defaultTimezone: o.config.core.default_timezone,
      events: engine.events,
    });
    if (changes.parsedFiles.length > 0 || changes.removedFiles.length > 0) {
      log.info(
        {
          files: changes.parsedFiles.length,
          dags: processor.dags.length,
          import_errors: processor.importErrors.length,
          ms: Math.round(changes.stats.durationMs),
        },
        "parsed DAG files",
      );
    }
    for (const p of result.scheduleProblems) log.warn({ dag_id: p.dag_id }, p.error);
  };
  const kick = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = refresh()
      .catch((err: unknown) => log.error({ err }, "DAG folder refresh failed"))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          kick();
        }
      });
  };
  await refresh();
  const interval = setInterval(kick, Math.max(1, o.config.scheduler.dag_dir_list_interval) * 1000);
  interval.unref();
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  try {
    // Picks up an edited DAG in well under a second; the interval stays as the safety net.
    watcher = watch(o.dagsFolder, { recursive: true }, () => {
      if (debounce) clearTimeout(debounce);
      debounce = setTimeout(kick, 150);
    });
  } catch {
    watcher = null;
  }
  engine.onStop(async () => {
    clearInterval(interval);
    if (debounce) clearTimeout(debounce);
    watcher?.close();
    await running;
    await processor.close();
  });
  return processor;
}

/** Opens the database (migrating it) and starts the requested components. */
export async function startEngine(o: StartEngineOptions): Promise<Engine> {
  const database = o.database ?? (await openDatabase(o.config));
  await migrate(database);
  const events = new EngineEvents(database);
  await events.start();
  const engine = new Engine(database, events);
  engine.onStop(async () => {
    await events.stop();
    if (!o.database) await database.close();
  });
  try {
    if (o.parts.processor) await startProcessor(engine, o);
    let apiUrl = o.apiUrl ?? o.config.core.execution_api_server_url ?? null;
    if (o.parts.api) {
      const api = createApiServer({
        database,
        config: o.config,
        events,
        secretKey: o.secretKey,
        logger: o.logger.child({ component: "api" }),
        ...(o.apiToken === undefined ? {} : { apiToken: o.apiToken }),
      });
      await o.beforeListen?.(api, database, events);
      engine.url = await api.listen(o.port ?? o.config.api.port, o.host ?? o.config.api.host);
      apiUrl ??= engine.url;
      engine.onStop(() => api.close());
    }
    if (o.parts.scheduler) {
      if (!apiUrl) {
        throw new Error("The scheduler needs the execution API's URL: set core.execution_api_server_url.");
      }
      const executor: Executor = new LocalExecutor(localExecutorOptions(o.config));
      await executor.start();
      const scheduler = new Scheduler({
        database,
        config: o.config,
        executor,
        events,
        apiUrl,
        secretKey: o.secretKey,
        logger: o.logger.child({ component: "scheduler" }),
      });
      await scheduler.start();
      engine.onStop(async () => {
        await scheduler.stop();
        await executor.stop({ graceful: true, timeoutMs: 10_000 });
      });
    }
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}
