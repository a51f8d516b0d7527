// Pieces TriggerDagRunOperator and ExternalTaskSensor share.
import { UpdraftError } from "../../common/errors.js";

/** Waits `ms`, or rejects with the signal's reason when the try is stopped. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

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
