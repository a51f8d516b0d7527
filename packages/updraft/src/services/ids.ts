import { UpdraftError } from "../common/errors.js";

/** Longest id Updraft accepts (Airflow's ID_LEN). */
export const MAX_ID_LENGTH = 250;

/** Airflow's default `allowed_run_id_pattern`, for run ids given by users. */
const RUN_ID = /^[A-Za-z0-9_.~:+-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Refuses an id that no object can have: empty, longer than 250 characters, or holding control
 * characters (NUL cannot even be stored). ID_INVALID (400).
 */
export function checkId(kind: string, value: string): string {
  if (value.length === 0 || value.length > MAX_ID_LENGTH || CONTROL.test(value)) {
    throw new UpdraftError(
      "ID_INVALID",
      `The ${kind} must be 1 to ${MAX_ID_LENGTH} characters without control characters (got ${value.length} characters${CONTROL.test(value) ? " with a control character" : ""}).`,
      { details: { kind } },
    );
  }
  return value;
}

/** A run id a user may give: letters, digits and `_.~:+-`, at most 250 characters. RUN_ID_INVALID (400). */
export function checkRunId(runId: string): string {
  if (runId.length === 0 || runId.length > MAX_ID_LENGTH || !RUN_ID.test(runId)) {
    throw new UpdraftError(
      "RUN_ID_INVALID",
      `A run id must be 1 to ${MAX_ID_LENGTH} characters of letters, digits and _.~:+- (got ${JSON.stringify(runId.slice(0, 60))}${runId.length > 60 ? "…" : ""}).`,
    );
  }
  return runId;
}

export function dagNotFound(dagId: string): UpdraftError {
  return new UpdraftError(
    "DAG_NOT_FOUND",
    `DAG "${dagId}" was not found. Run \`updraft dags list\` or GET /api/v1/dags to see the DAG ids; a DAG appears once the DAG processor has parsed its file.`,
    { details: { dag_id: dagId } },
  );
}

export function runNotFound(dagId: string, runId: string): UpdraftError {
  return new UpdraftError(
    "DAG_RUN_NOT_FOUND",
    `DAG "${dagId}" has no run "${runId}". Run \`updraft dags list-runs ${dagId}\` or GET /api/v1/dags/${encodeURIComponent(dagId)}/dagRuns to see its runs.`,
    { details: { dag_id: dagId, run_id: runId } },
  );
}
