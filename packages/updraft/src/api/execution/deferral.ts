// Runner-facing routes of deferral and reschedule (decision 0030): a running try ends as deferred
// on a trigger, or as up_for_reschedule until a date. Registered by routes.ts under /execution,
// behind its token check.
import type { FastifyInstance } from "fastify";
import type { Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import { DeferRequestSchema, RescheduleRequestSchema } from "../../model/execution-api.js";
import { deferTaskInstance, rescheduleTaskInstance } from "../../services/index.js";
import { parseBody } from "../validate.js";
import { taskClaimsOf } from "./auth.js";

export function deferralRoutes(
  app: FastifyInstance,
  options: { database: Database; events: EngineEvents | null; xcomMaxSize: number },
): void {
  const db = options.database.db;
  // Trigger kwargs and next_kwargs are JSON the task chose: bounded as an XCom is.
  app.post("/ti/defer", { bodyLimit: options.xcomMaxSize * 2 + 1024 }, async (request) => {
    const claims = taskClaimsOf(request);
    const body = parseBody(DeferRequestSchema, request.body);
    return deferTaskInstance(db, claims, body, { events: options.events });
  });

  app.post("/ti/reschedule", async (request) => {
    const claims = taskClaimsOf(request);
    const body = parseBody(RescheduleRequestSchema, request.body);
    return rescheduleTaskInstance(db, claims, body, { events: options.events });
  });
}
