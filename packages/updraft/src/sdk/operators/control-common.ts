// Pieces TriggerDagRunOperator and ExternalTaskSensor share.
import { UpdraftError } from "../../common/errors.js";
import { abortableSleep } from "../../common/abortable-sleep.js";

export { abortableSleep };

/** INVALID_TASK unless every state is one of `known` (a typo would wait forever). */
export function checkStates(
  where: string,
  name: string,
  states: readonly string[],
  known: readonly string[],
): void {
  if (!Array.isArray(states))
    throw new UpdraftError("INVALID_TASK", `${where}: ${name} must be a list of states.`);
  const bad = states.filter((s) => !known.includes(s));
  if (bad.length > 0)
    throw new UpdraftError(
      "INVALID_TASK",
      `${where}: ${name} has ${bad.map((s) => `"${String(s)}"`).join(", ")}, which ${bad.length === 1 ? "is not a state" : "are not states"}. Valid: ${known.join(", ")}.`,
      { details: { field: name } },
    );
}

/**
 * True for an execution API call that got no answer or a server failure (5xx): a long wait goes
 * on at the next check instead of failing the task because the API server restarted.
 */
export function isTransientApiError(err: unknown): boolean {
  if (!(err instanceof UpdraftError)) return false;
  if (err.code === "EXECUTION_API_UNREACHABLE") return true;
  const status = err.details["status"];
  return err.code === "EXECUTION_API_ERROR" && typeof status === "number" && status >= 500;
}
