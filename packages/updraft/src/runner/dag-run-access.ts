// `ctx.dagRuns` over the execution API's control routes (api/execution/control.ts), with the
// try's token. A refused trigger keeps the server's code (DAG_RUN_EXISTS, DAG_NOT_FOUND, …) so
// that operators can act on it.
import { UpdraftError, isErrorCode } from "../common/errors.js";
import { ControlDagRunSchema, ControlStatesResponseSchema } from "../model/execution-control.js";
import type { DagRunAccessor, DagRunStatus } from "../sdk/dag-runs.js";
import type { ExecutionApiClient } from "./api-client.js";

const enc = encodeURIComponent;

/** The server's own error (code, message, details) instead of the client's EXECUTION_API_*. */
function serverError(err: unknown): unknown {
  if (!(err instanceof UpdraftError)) return err;
  const code = err.details["problem_code"];
  // A server failure (5xx) keeps the client's code, which says it is worth another attempt.
  const status = err.details["status"];
  if (typeof status === "number" && status >= 500) return err;
  if (typeof code !== "string" || !isErrorCode(code)) return err;
  const detail = err.details["detail"];
  const details = err.details["problem_details"];
  return new UpdraftError(code, typeof detail === "string" ? detail : err.message, {
    cause: err,
    details: typeof details === "object" && details !== null ? (details as Record<string, unknown>) : {},
  });
}

async function call<T>(parse: (v: unknown) => T, run: () => Promise<unknown>): Promise<T> {
  try {
    return parse(await run());
  } catch (err) {
    throw serverError(err);
  }
}

export function dagRunAccessor(client: ExecutionApiClient): DagRunAccessor {
  const run = (v: unknown): DagRunStatus => ControlDagRunSchema.parse(v);
  return {
    trigger(req) {
      const logical =
        req.logicalDate === undefined || req.logicalDate === null
          ? null
          : req.logicalDate instanceof Date
            ? req.logicalDate.toISOString()
            : req.logicalDate;
      return call(run, () =>
        client.control("POST", `/dag-runs/${enc(req.dagId)}`, {
          run_id: req.runId ?? null,
          logical_date: logical,
          conf: req.conf ?? {},
          note: req.note ?? null,
        }),
      );
    },
    clear(dagId, runId) {
      return call(run, () => client.control("POST", `/dag-runs/${enc(dagId)}/${enc(runId)}/clear`, {}));
    },
    get(dagId, runId) {
      return call(run, () => client.control("GET", `/dag-runs/${enc(dagId)}/${enc(runId)}`));
    },
    countStates(q) {
      return call(
        (v) => ControlStatesResponseSchema.parse(v),
        () =>
          client.control("POST", `/states/${enc(q.dagId)}`, {
            ...(q.taskIds !== undefined ? { task_ids: [...q.taskIds] } : {}),
            ...(q.taskGroupId !== undefined ? { task_group_id: q.taskGroupId } : {}),
            logical_dates: q.logicalDates.map((d) => d.toISOString()),
            states: [...q.states],
            ...(q.checkExistence === true ? { check_existence: true } : {}),
          }),
      );
    },
  };
}
