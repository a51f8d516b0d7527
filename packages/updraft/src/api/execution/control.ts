// The execution API's control routes (decision 0033): a running task triggers, clears and reads
// other DAGs' runs (TriggerDagRunOperator) and counts other DAGs' task instances or runs in given
// states (ExternalTaskSensor). Changes need the try's "task" token; reads take any token.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ControlStatesRequestSchema, ControlTriggerRequestSchema } from "../../model/execution-control.js";
import {
  clearRunForTask,
  countStates,
  dagRunForTask,
  triggerRunForTask,
} from "../../services/task-control.js";
import { parseBody, parseParams } from "../validate.js";
import { claimsOf, taskClaimsOf } from "./auth.js";
import type { ExecutionRoutesOptions } from "./routes.js";

const DagPathSchema = z.object({ dagId: z.string().min(1).max(250) });
const RunPathSchema = z.object({ dagId: z.string().min(1).max(250), runId: z.string().min(1).max(250) });

/** Registers /control/… on the execution API's instance (its token hook already ran). */
export function registerControlRoutes(app: FastifyInstance, options: ExecutionRoutesOptions): void {
  const db = options.database.db;
  const control = {
    events: options.events,
    ...(options.defaultTimezone !== undefined ? { defaultTimezone: options.defaultTimezone } : {}),
  };

  app.post("/control/dag-runs/:dagId", async (request, reply) => {
    const claims = taskClaimsOf(request);
    const { dagId } = parseParams(DagPathSchema, request.params);
    const body = parseBody(ControlTriggerRequestSchema, request.body ?? {});
    const run = await triggerRunForTask(db, claims, dagId, body, control);
    return reply.code(201).send(run);
  });

  app.post("/control/dag-runs/:dagId/:runId/clear", async (request) => {
    const claims = taskClaimsOf(request);
    const { dagId, runId } = parseParams(RunPathSchema, request.params);
    return clearRunForTask(db, claims, dagId, runId, control);
  });

  app.get("/control/dag-runs/:dagId/:runId", async (request) => {
    claimsOf(request);
    const { dagId, runId } = parseParams(RunPathSchema, request.params);
    return dagRunForTask(db, dagId, runId);
  });

  app.post("/control/states/:dagId", async (request) => {
    claimsOf(request);
    const { dagId } = parseParams(DagPathSchema, request.params);
    const body = parseBody(ControlStatesRequestSchema, request.body);
    return countStates(db, dagId, body);
  });
}
