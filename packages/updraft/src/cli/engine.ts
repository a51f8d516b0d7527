// Assembles Updraft's components in one process: `standalone` runs all of them, `scheduler`,
// `api-server` and `dag-processor` run one each, `dags test` runs all on a throwaway database.
import { watch, type FSWatcher } from "node:fs";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { createApiServer, type ApiServer } from "../api/index.js";
import type { UpdraftConfig } from "../config/index.js";
import {
  createCipher,
  endJob,
  heartbeatJob,
  migrate,
  openDatabase,
  startJob,
  type Database,
} from "../db/index.js";
import { Triggerer } from "../triggerer/index.js";
import { EngineEvents } from "../events/engine-events.js";
import { Notifier } from "../notify/notifier.js";
import {
  ExecutorSet,
  KubernetesExecutor,
  LocalExecutor,
  QueueExecutor,
  kubernetesExecutorOptions,
  queueExecutorOptions,
  localExecutorOptions,
  parseExecutorSetting,
  type Executor,
  type ExecutorName,
} from "../executors/index.js";
import { DagFileProcessor, type RefreshResult } from "../processor/index.js";
import { Scheduler } from "../scheduler/index.js";
import { syncDagBag } from "../services/index.js";
import { metricsFromConfig, type ProcessMetrics } from "../metrics/index.js";
import { noopTraces, tracesFromConfig, type Traces } from "../traces/index.js";

export interface EngineParts {
  api: boolean;
  scheduler: boolean;
  processor: boolean;
  /** Run a triggerer for deferred tasks (standalone, `updraft triggerer`). Default false. */
  triggerer?: boolean;
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
  /** Called with the API server before it listens, to mount extra routes. */
  beforeListen?: (api: ApiServer, database: Database, events: EngineEvents) => void | Promise<void>;
  /** URL runners use to reach the execution API when the API runs elsewhere. */
  apiUrl?: string;
  /**
   * Return only once the first parse of the DAG folder is written, for commands that need the
   * DAGs before they can go on (`dags test`). Otherwise the engine serves at once and parses
   * behind, so that one slow DAG file cannot hold up the start.
   */
  awaitFirstParse?: boolean;
  /**
   * Run every task in this process's LocalExecutor whatever executor it names, and accept DAGs
   * naming executors core.executor does not list (`dags test`, as Airflow's dag.test()).
   */
  localOnly?: boolean;
}

/** The running components; `stop()` shuts them down in reverse order. */
export class Engine {
  url: string | null = null;
  /** Settles (never rejects) once the first parse of the DAG folder is written; at once without a processor. */
  firstParse: Promise<void> = Promise.resolve();
  private stops: (() => Promise<void>)[] = [];
  constructor(
    readonly database: Database,
    readonly events: EngineEvents,
    /** This process's metrics (metrics.*): every component emits here; /metrics serves its registry. */
    readonly metrics: ProcessMetrics,
    /** This process's OpenTelemetry traces (traces.*): run and try spans, or a no-op. */
    readonly traces: Traces = noopTraces,
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

/**
 * Records the DAG processor as a running component (a `job` row, as Airflow's DagProcessorJob)
 * and heartbeats it, so that `/health` reports it; a failed heartbeat is logged and retried at
 * the next beat (health then shows the processor stale, which is the truth).
 */
async function startProcessorJob(engine: Engine, o: StartEngineOptions, log: Logger): Promise<void> {
  const db = engine.database.db;
  const job = await startJob(db, { jobType: "dag_processor", hostname: hostname(), pid: process.pid });
  const beat = setInterval(
    () => {
      heartbeatJob(db, { id: job.id, jobType: "dag_processor", hostname: job.hostname, pid: job.pid }).catch(
        (err: unknown) => log.warn({ err }, "DAG processor heartbeat failed; retrying at the next beat"),
      );
    },
    Math.max(1, o.config.scheduler.scheduler_heartbeat_sec) * 1000,
  );
  beat.unref();
  engine.onStop(async () => {
    clearInterval(beat);
    await endJob(db, job.id);
  });
}

/**
 * Parses the DAG folder now, in the background, then on file changes and every
 * `dag_dir_list_interval`. Each file's DAGs are written as soon as it is parsed, so that a file
 * that loops until the time limit holds up only itself.
 */
function startProcessor(engine: Engine, o: StartEngineOptions): void {
  const log = o.logger.child({ component: "dag-processor" });
  const processor = new DagFileProcessor(o.dagsFolder, {
    parsingProcesses: o.config.dag_processor.parsing_processes,
    timeoutSeconds: o.config.core.dag_file_processor_timeout,
    cacheDir: `${o.config.home}/cache/dags`,
    metrics: engine.metrics.metrics,
    ...(o.localOnly === true ? {} : { executors: parseExecutorSetting(o.config.core.executor) }),
  });
  const metrics = engine.metrics.metrics;
  let stopping = false;
  let refreshes = 0;
  const write = async (changes: RefreshResult): Promise<void> => {
    // A stopping processor fails the files it was evaluating: those are no import errors.
    if (stopping) return;
    const result = await syncDagBag(engine.database.db, changes, {
      pausedAtCreation: o.config.core.dags_are_paused_at_creation,
      defaultTimezone: o.config.core.default_timezone,
      events: engine.events,
    });
    for (const p of result.scheduleProblems) log.warn({ dag_id: p.dag_id }, p.error);
  };
  const refresh = async (): Promise<void> => {
    const first = refreshes++ === 0;
    let files = 0;
    const rest = await processor.refresh({
      onProgress: async (changes) => {
        try {
          await write(changes);
        } catch (err) {
          // The processor hands the same changes over again with the next step.
          log.error({ err }, "writing parsed DAGs failed; retrying with the next parsed file");
          throw err;
        }
        files += changes.parsedFiles.length;
      },
    });
    await write(rest);
    if (stopping) return;
    files += rest.parsedFiles.length;
    // Airflow's DagFileProcessorManager gauges, after each pass over the folder.
    metrics.gauge("dag_processing.total_parse_time", rest.stats.durationMs / 1000);
    metrics.gauge("dag_processing.import_errors", processor.importErrors.length);
    metrics.gauge("dagbag_size", processor.dags.length);
    const facts = {
      files,
      dags: processor.dags.length,
      import_errors: processor.importErrors.length,
      ms: Math.round(rest.stats.durationMs),
    };
    if (first) log.info(facts, "first parse of the DAG folder finished");
    else if (files > 0 || rest.removedFiles.length > 0) log.info(facts, "parsed DAG files");
  };
  let running: Promise<void> | null = null;
  let again = false;
  const kick = (): void => {
    if (stopping) return;
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
  kick();
  engine.firstParse = running ?? Promise.resolve();
  log.info({ dags_folder: o.dagsFolder }, "parsing the DAG folder");
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
    stopping = true;
    clearInterval(interval);
    if (debounce) clearTimeout(debounce);
    watcher?.close();
    // Closing first stops a file still being evaluated, instead of waiting for its time limit.
    await processor.close();
    await running;
  });
}

/** One executor by its core.executor name, configured from its section. */
function executorByName(name: ExecutorName, config: UpdraftConfig, logger: Logger): Executor {
  switch (name) {
    case "KubernetesExecutor":
      return new KubernetesExecutor(
        kubernetesExecutorOptions(config, { logger: logger.child({ component: "kubernetes-executor" }) }),
      );
    case "LocalExecutor":
      return new LocalExecutor(localExecutorOptions(config));
    case "QueueExecutor":
      return new QueueExecutor(
        queueExecutorOptions(config, { logger: logger.child({ component: "queue-executor" }) }),
      );
  }
}

/** Every executor `core.executor` lists, in its order (the first is the default; decision 0027). */
function executorsFromConfig(config: UpdraftConfig, logger: Logger, localOnly: boolean): ExecutorSet {
  if (localOnly)
    return new ExecutorSet([new LocalExecutor(localExecutorOptions(config))], { takesAll: true });
  return new ExecutorSet(
    parseExecutorSetting(config.core.executor).map((n) => executorByName(n, config, logger)),
  );
}

/** Opens the database (migrating it) and starts the requested components. */
export async function startEngine(o: StartEngineOptions): Promise<Engine> {
  const database = o.database ?? (await openDatabase(o.config));
  await migrate(database);
  const events = new EngineEvents(database);
  await events.start();
  const log = o.logger.child({ component: "metrics" });
  let lastMetricsError = 0;
  const engine = new Engine(
    database,
    events,
    metricsFromConfig(o.config, (err) => {
      // A StatsD server that is down must not flood the log: one line a minute.
      if (Date.now() - lastMetricsError < 60_000) return;
      lastMetricsError = Date.now();
      log.warn({ err: err.message }, "Sending metrics to StatsD failed");
    }),
    tracesFromConfig(o.config, noopTraces),
  );
  engine.onStop(async () => {
    await engine.metrics.metrics.close();
    await engine.traces.close();
    await events.stop();
    if (!o.database) await database.close();
  });
  try {
    if (o.parts.processor) {
      await startProcessorJob(engine, o, o.logger.child({ component: "dag-processor" }));
      startProcessor(engine, o);
      if (o.awaitFirstParse === true) await engine.firstParse;
    }
    let apiUrl = o.apiUrl ?? o.config.core.execution_api_server_url ?? null;
    if (o.parts.api) {
      const api = createApiServer({
        database,
        config: o.config,
        events,
        secretKey: o.secretKey,
        logger: o.logger.child({ component: "api" }),
        metrics: engine.metrics,
        traces: engine.traces,
      });
      await o.beforeListen?.(api, database, events);
      engine.url = await api.listen(o.port ?? o.config.api.port, o.host ?? o.config.api.host);
      apiUrl ??= engine.url;
      engine.onStop(() => api.close());
    }
    if (o.parts.triggerer === true) {
      const t = o.config.triggerer;
      const triggerer = new Triggerer({
        db: database.db,
        cipher: createCipher(o.config.core.fernet_key),
        events,
        logger: o.logger.child({ component: "triggerer" }),
        capacity: t.capacity,
        heartbeatIntervalS: t.heartbeat_interval,
        staleAfterS: t.stale_after,
        pollIntervalS: t.poll_interval,
        cacheDir: `${o.config.home}/cache/triggers`,
        metrics: engine.metrics.metrics,
      });
      await triggerer.start();
      engine.onStop(() => triggerer.stop());
    }
    if (o.parts.scheduler) {
      if (!apiUrl) {
        throw new Error("The scheduler needs the execution API's URL: set core.execution_api_server_url.");
      }
      const executors = executorsFromConfig(o.config, o.logger, o.localOnly === true);
      await executors.start();
      const scheduler = new Scheduler({
        database,
        config: o.config,
        executors,
        events,
        apiUrl,
        secretKey: o.secretKey,
        logger: o.logger.child({ component: "scheduler" }),
        metrics: engine.metrics.metrics,
        traces: engine.traces,
      });
      await scheduler.start();
      // Email on failure and on retry, beside the scheduler (never in a runner).
      const notifier = new Notifier({
        database,
        config: o.config,
        events,
        logger: o.logger.child({ component: "notifier" }),
      });
      notifier.start();
      engine.onStop(async () => {
        await scheduler.stop();
        await notifier.stop();
        await executors.stop({ graceful: true, timeoutMs: 10_000 });
      });
    }
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}
