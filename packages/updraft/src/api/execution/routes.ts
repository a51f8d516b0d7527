import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Cipher, Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import type { Metrics } from "../../metrics/index.js";
import type { Traces } from "../../traces/index.js";
import {
  FinishRequestSchema,
  HeartbeatRequestSchema,
  StartRequestSchema,
  XComPushRequestSchema,
} from "../../model/execution-api.js";
import {
  finishTaskInstance,
  getConnectionForTask,
  getVariableForTask,
  heartbeatTaskInstance,
  pullXcom,
  pushXcom,
  setRenderedFields,
  startTaskInstance,
  xcomTooLarge,
} from "../../services/index.js";
import { problem, sendProblem } from "../problem.js";
import { parseBody, parseParams } from "../validate.js";
import { bearerToken, claimsOf, taskClaimsOf, verifyExecutionToken } from "./auth.js";
import { registerControlRoutes } from "./control.js";
import { deferralRoutes } from "./deferral.js";

export interface ExecutionRoutesOptions {
  database: Database;
  events: EngineEvents | null;
  /** Where task-instance metrics go (ti.start, ti_failures, task.duration, …). */
  metrics?: Metrics;
  /** Where ended tries' spans go (OpenTelemetry). */
  traces?: Traces;
  secretKey: string;
  cipher: Cipher;
  xcomMaxSize: number;
  heartbeatIntervalS: number;
  /** Where handed-over tries write their logs (logging.base_log_folder). */
  logFolder: string;
  /** core.max_active_tasks_per_dag: whether a finish may hand a try of another run over. */
  maxActiveTasksPerDag: number;
  /** Zone of a DAG without its own, for runs a task triggers (core.default_timezone). */
  defaultTimezone?: string;
}

const RenderedFieldsSchema = z.object({ fields: z.record(z.string(), z.unknown()) });
const XComPathSchema = z.object({
  dagId: z.string().min(1),
  runId: z.string().min(1),
  taskId: z.string().min(1),
});
const XComQuerySchema = z.object({
  key: z.string().min(1).default("return_value"),
  map_index: z.coerce.number().int().min(-1).optional(),
});
const KeySchema = z.object({ key: z.string().min(1).max(250) });
const ConnIdSchema = z.object({ connId: z.string().min(1).max(250) });

/** The execution API of src/model/execution-api.ts, under /execution (registered with that prefix). */
export function executionRoutes(options: ExecutionRoutesOptions) {
  const { database, events, secretKey, cipher, xcomMaxSize } = options;
  const db = database.db;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.decorateRequest("claims", null);
    app.addHook("onRequest", async (request) => {
      request.claims = verifyExecutionToken(bearerToken(request), secretKey);
    });

    app.post("/ti/start", async (request) => {
      const claims = taskClaimsOf(request);
      const body = parseBody(StartRequestSchema, request.body);
      return startTaskInstance(db, claims, body, {
        heartbeatIntervalS: options.heartbeatIntervalS,
        ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
      });
    });

    app.post("/ti/heartbeat", async (request, reply) => {
      const claims = taskClaimsOf(request);
      const body = parseBody(HeartbeatRequestSchema, request.body);
      await heartbeatTaskInstance(db, claims, body);
      return reply.code(204).send();
    });

    // The body may carry the return value: the same size limit as an XCom push.
    app.post("/ti/finish", { bodyLimit: xcomMaxSize * 2 + 1024 }, async (request) => {
      const claims = taskClaimsOf(request);
      const body = parseBody(FinishRequestSchema, request.body);
      const result = await finishTaskInstance(db, claims, body, {
        events,
        xcomMaxSize,
        ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
        ...(options.traces !== undefined ? { traces: options.traces } : {}),
        handOver: {
          // The runner reaches this server at the address it used for this request.
          signer: {
            secretKey,
            apiUrl: `${request.protocol}://${request.host}`,
            logFolder: options.logFolder,
            now: Date.now,
          },
          heartbeatIntervalS: options.heartbeatIntervalS,
          maxActiveTasksPerDag: options.maxActiveTasksPerDag,
        },
      });
      return { state: result.state, next: result.next };
    });

    deferralRoutes(app, { database, events, xcomMaxSize });

    app.post("/ti/rendered-fields", async (request, reply) => {
      const claims = taskClaimsOf(request);
      const body = parseBody(RenderedFieldsSchema, request.body);
      await setRenderedFields(db, claims, body.fields);
      return reply.code(204).send();
    });

    app.get("/xcom/:dagId/:runId/:taskId", async (request) => {
      const claims = claimsOf(request);
      const path = parseParams(XComPathSchema, request.params);
      const query = parseParams(XComQuerySchema, request.query);
      return pullXcom(db, claims, { ...path, key: query.key, mapIndex: query.map_index ?? null });
    });

    // Larger bodies are refused before they are read; the error handler names the task.
    app.post("/xcom", { bodyLimit: xcomMaxSize * 2 + 1024 }, async (request, reply) => {
      const claims = taskClaimsOf(request);
      const body = parseBody(XComPushRequestSchema, request.body);
      await pushXcom(db, claims, body, { maxSize: xcomMaxSize });
      return reply.code(204).send();
    });

    app.get("/variables/:key", async (request) => {
      claimsOf(request);
      const { key } = parseParams(KeySchema, request.params);
      return getVariableForTask(db, cipher, key);
    });

    app.get("/connections/:connId", async (request) => {
      claimsOf(request);
      const { connId } = parseParams(ConnIdSchema, request.params);
      return getConnectionForTask(db, cipher, connId);
    });

    registerControlRoutes(app, options);

    app.setNotFoundHandler((request, reply) =>
      sendProblem(
        reply,
        problem(
          404,
          "NOT_FOUND",
          `No execution API route ${request.method} ${request.url.split("?")[0] ?? ""}.`,
        ),
      ),
    );
  };
}

/** The 413 of an XCom push refused by the body limit, naming the task when the token is known. */
export function xcomBodyTooLarge(
  taskId: string | null,
  contentLength: string | undefined,
  xcomMaxSize: number,
) {
  const size = contentLength !== undefined && /^\d+$/.test(contentLength) ? Number(contentLength) : null;
  const err = xcomTooLarge(taskId ?? "(unknown)", null, size, xcomMaxSize);
  return problem(413, err.code, err.message, err.details);
}
