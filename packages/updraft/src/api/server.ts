import Fastify, { type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { UpdraftError } from "../common/errors.js";
import type { UpdraftConfig } from "../config/index.js";
import { createCipher, type Database } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import { executionRoutes, xcomBodyTooLarge } from "./execution/routes.js";
import { depthCheckedJsonParser, type CallbackBodyParser } from "./json-body.js";
import { registerOpenApi, schemaValidationError } from "./openapi.js";
import { etagHook } from "./etag.js";
import { pageLimitCap } from "./page-limit.js";
import { problem, sendProblem, toProblem } from "./problem.js";
import { accessHook } from "./auth/access-hook.js";
import { authenticator } from "./auth/authenticate.js";
import { LoginLimiter } from "./auth/login-limiter.js";
import { authRoutes } from "./rest/auth.js";
import { configRoutes } from "./rest/config.js";
import { connectionRoutes } from "./rest/connections.js";
import { dagRunRoutes } from "./rest/dag-runs.js";
import { dagRoutes } from "./rest/dags.js";
import { dagSourceRoutes } from "./rest/dag-sources.js";
import { fileTokens } from "./file-token.js";
import { calendarRoutes } from "./rest/calendar.js";
import { durationRoutes } from "./rest/durations.js";
import { ganttRoutes } from "./rest/gantt.js";
import { gridRoutes } from "./rest/grid.js";
import { slaMissRoutes } from "./rest/sla-misses.js";
import { deadlineRoutes } from "./rest/deadlines.js";
import { healthRoutes } from "./rest/health.js";
import { assetRoutes } from "./rest/assets.js";
import { importErrorRoutes } from "./rest/import-errors.js";
import { logRoutes } from "./rest/logs.js";
import { podLogSource } from "./rest/pod-log.js";
import { poolRoutes } from "./rest/pools.js";
import { roleRoutes } from "./rest/roles.js";
import { tokenRoutes } from "./rest/tokens.js";
import { userRoutes } from "./rest/users.js";
import { eventLogRoutes } from "./rest/event-logs.js";
import { taskDependencyRoutes } from "./rest/task-dependencies.js";
import { taskRescheduleRoutes } from "./rest/task-reschedules.js";
import { taskInstanceStateRoutes } from "./rest/task-instance-state.js";
import { taskInstanceRoutes } from "./rest/task-instances.js";
import { variableRoutes } from "./rest/variables.js";
import { workerLogSource } from "./rest/worker-log.js";
import { workerRoutes } from "./rest/workers.js";
import { workerRegistry } from "./rest/workers-registry.js";
import { versionRoutes } from "./rest/version.js";
import { uiAssets } from "./ui-assets.js";
import { metricsRoutes } from "./metrics-route.js";
import { METRICS_ROUTES } from "./auth/public-routes.js";
import type { ProcessMetrics } from "../metrics/index.js";
import type { Traces } from "../traces/index.js";

export interface ApiServerOptions {
  database: Database;
  config: UpdraftConfig;
  events: EngineEvents | null;
  /** Signs and verifies execution tokens (api.secret_key); required. */
  secretKey: string;
  logger?: Logger;
  /** Counts failed logins (default: 5 per minute per user name and per address). */
  loginLimiter?: LoginLimiter;
  /** Seconds between runner heartbeats (default: a tenth of the heartbeat timeout, at most 5). */
  heartbeatIntervalS?: number;
  /** The built web UI (default: the `updraft` package's ui-dist, see ui-assets.ts). */
  uiDir?: string;
  /** This process's metrics: task-instance metrics go to `metrics`, GET /metrics serves `prometheus`. */
  metrics?: ProcessMetrics;
  /** Where the execution API sends ended tries' spans (OpenTelemetry, traces.otel_on). */
  traces?: Traces;
}

export interface RegisteredRoute {
  method: string;
  url: string;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** Every route registered so far (each method of each URL pattern), for tests and listings. */
  readonly routes: readonly RegisteredRoute[];
  /** Starts listening; resolves to the base URL. */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

const MIN_SECRET_LENGTH = 16;

/**
 * The API server: the execution API for task runners under `/execution`, the REST API under
 * `/api/v1`, `/health`, and the web UI at `/`. Every error is `application/problem+json`.
 *
 * @example
 * ```ts
 * const server = createApiServer({ database, config, events, secretKey: config.api.secret_key! });
 * const url = await server.listen(config.api.port, config.api.host);
 * ```
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { database, config, events } = options;
  if (options.secretKey.length < MIN_SECRET_LENGTH) {
    throw new UpdraftError(
      "API_SECRET_KEY_MISSING",
      `The API server needs api.secret_key (env UPDRAFT__API__SECRET_KEY) of at least ${MIN_SECRET_LENGTH} characters to sign task tokens; generate one with \`node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"\`.`,
    );
  }
  const xcomMaxSize = config.core.xcom_max_size;
  const cipher = createCipher(config.core.fernet_key);
  const tokens = fileTokens(options.secretKey);
  const app: FastifyInstance = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    disableRequestLogging: true,
    // Bodies above this are refused unread (413); the XCom route allows 2× core.xcom_max_size.
    bodyLimit: Math.max(1024 * 1024, xcomMaxSize * 2),
    routerOptions: { maxParamLength: 1000 },
    return503OnClosing: true,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Behind a reverse proxy: request.protocol and request.ip from X-Forwarded-Proto/-For.
    trustProxy: config.api.trust_proxy,
  }) as unknown as FastifyInstance;
  // Every route, as Fastify registers it (HEAD routes of GETs included), so that a test can check
  // that each one is protected: a route added later without protection fails it.
  const routes: RegisteredRoute[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.decorateRequest("principal", null);
  // The gate in front of every route, root-level so that routes mounted later pass it too.
  const limiter = options.loginLimiter ?? new LoginLimiter();
  // metrics.prometheus_public makes GET /metrics public, deliberately (decision 0018).
  const extraPublic = config.metrics.prometheus_public ? METRICS_ROUTES : undefined;
  app.addHook("onRequest", accessHook(authenticator(database, limiter), extraPublic));
  // On the root instance, before any route plugin, so that every JSON body of every route
  // (execution and REST alike) passes the depth check once.
  app.addContentTypeParser(
    "application/json",
    { parseAs: "string" },
    depthCheckedJsonParser(app.getDefaultJsonParser("error", "error") as CallbackBodyParser),
  );

  app.setErrorHandler((err, request, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    // An XCom push, or a finish carrying the return value: the 413 names the task and the limit.
    if (status === 413 && /^\/execution\/(xcom|ti\/finish)/.test(request.url)) {
      return sendProblem(
        reply,
        xcomBodyTooLarge(request.claims?.ti.task_id ?? null, request.headers["content-length"], xcomMaxSize),
      );
    }
    const p = toProblem(schemaValidationError(err) ?? err);
    const retryAfter = p.details?.["retry_after_s"];
    if (p.status === 429 && typeof retryAfter === "number")
      void reply.header("retry-after", String(retryAfter));
    if (p.status >= 500) request.log.error({ err }, "request failed");
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, "NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0] ?? ""}.`),
    ),
  );

  // After each route's schema has validated the request: lists return at most this many items.
  app.addHook("preHandler", pageLimitCap(config.webserver.maximum_page_limit));

  // Before any route: zod schemas on routes validate, serialize and document them.
  registerOpenApi(app);

  // The QueueExecutor's workers in Redis (decision 0026): connected on first use, closed with the server.
  const workers = workerRegistry(config);
  app.addHook("onClose", async () => workers.close());

  const heartbeatIntervalS =
    options.heartbeatIntervalS ??
    Math.max(1, Math.min(5, config.scheduler.task_instance_heartbeat_timeout / 10));
  // Plugins load on the first inject/listen (Fastify's `ready`), which reports their errors.
  void app.register(
    executionRoutes({
      database,
      events,
      secretKey: options.secretKey,
      cipher,
      xcomMaxSize,
      heartbeatIntervalS,
      logFolder: config.logging.base_log_folder,
      maxActiveTasksPerDag: config.core.max_active_tasks_per_dag,
      defaultTimezone: config.core.default_timezone,
      ...(options.metrics !== undefined ? { metrics: options.metrics.metrics } : {}),
      ...(options.traces !== undefined ? { traces: options.traces } : {}),
    }),
    { prefix: "/execution" },
  );
  void app.register(metricsRoutes(options.metrics ?? null));
  void app.register(healthRoutes(database, Math.max(30, config.scheduler.scheduler_heartbeat_sec * 3)));
  void app.register(versionRoutes());
  void app.register(uiAssets(options.uiDir === undefined ? {} : { uiDir: options.uiDir }));
  void app.register(
    async (rest) => {
      // Polling clients (the UI) get 304 while a GET's reply has not changed.
      rest.addHook("onSend", etagHook);
      rest.setNotFoundHandler(async (request, reply) =>
        sendProblem(
          reply,
          problem(404, "NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0] ?? ""}.`),
        ),
      );
      await rest.register(dagRoutes(database, events, tokens));
      await rest.register(dagSourceRoutes(database, tokens));
      await rest.register(dagRunRoutes(database, { events, defaultTimezone: config.core.default_timezone }));
      await rest.register(taskInstanceRoutes(database));
      await rest.register(
        taskDependencyRoutes(database, {
          maxActiveTasksPerDag: config.core.max_active_tasks_per_dag,
          workers,
          executorSetting: config.core.executor,
        }),
      );
      await rest.register(taskInstanceStateRoutes(database, { events }));
      await rest.register(taskRescheduleRoutes(database));
      await rest.register(gridRoutes(database));
      await rest.register(calendarRoutes(database));
      await rest.register(ganttRoutes(database));
      await rest.register(durationRoutes(database));
      await rest.register(slaMissRoutes(database));
      await rest.register(deadlineRoutes(database));
      await rest.register(eventLogRoutes(database));
      await rest.register(
        logRoutes(
          database,
          config.logging.base_log_folder,
          podLogSource(config),
          workerLogSource(workers, options.secretKey),
        ),
      );
      await rest.register(variableRoutes(database, cipher));
      await rest.register(connectionRoutes(database, cipher));
      await rest.register(poolRoutes(database));
      await rest.register(workerRoutes(workers));
      await rest.register(importErrorRoutes(database));
      await rest.register(assetRoutes(database));
      await rest.register(userRoutes(database));
      await rest.register(roleRoutes(database));
      await rest.register(tokenRoutes(database));
      await rest.register(configRoutes(config));
      await rest.register(
        authRoutes({ database, limiter, sessionLifetimeS: config.api.session_lifetime_minutes * 60 }),
      );
    },
    { prefix: "/api/v1" },
  );
  return {
    app,
    routes,
    async listen(port, host) {
      return app.listen({ port, host });
    },
    async close() {
      await app.close();
    },
  };
}
