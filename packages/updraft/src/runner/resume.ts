// Deferral and reschedule in the runner (decision 0030): which method a try's run calls (execute,
// or the method a deferral named, with the trigger's event), and the request a TaskDeferred or
// TaskRescheduled signal becomes. Only the execution API is touched.
import { dirname, isAbsolute, resolve } from "node:path";
import { parseDuration } from "../common/duration.js";
import { UpdraftError } from "../common/errors.js";
import type { DeferRequest, RescheduleRequest, StartResponse } from "../model/execution-api.js";
import type { BaseOperator, ExecuteInput } from "../sdk/base-operator.js";
import { TaskDeferred, TaskRescheduled } from "../sdk/signals.js";
import { USER_TRIGGER_PREFIX } from "../sdk/triggers.js";

/** Airflow's next_method of a try whose trigger timed out. */
export const FAIL_METHOD = "__fail__";

/** A run of a try that ends without ending the try. */
export type PauseRequest =
  | { kind: "defer"; body: DeferRequest }
  | { kind: "reschedule"; body: RescheduleRequest };

/** What the start says about resuming: the ExecuteInput fields `resume` and `reschedules`. */
export function resumeFields(start: StartResponse): Pick<ExecuteInput, "resume" | "reschedules"> {
  const out: Pick<ExecuteInput, "resume" | "reschedules"> = {};
  if (start.next_method != null) {
    const { event, ...kwargs } = start.next_kwargs ?? {};
    out.resume = { method: start.next_method, event, kwargs };
  }
  if (start.reschedules != null)
    out.reschedules = {
      firstPokeAt: new Date(start.reschedules.first_poke_at),
      count: start.reschedules.count,
    };
  return out;
}

/**
 * Runs the try's body: `execute`, or the method a deferral named (Airflow's
 * `resume_execution`); a trigger timeout (`__fail__`) throws the task's deferralTimedOut error.
 */
export function invokeTask(task: BaseOperator, input: ExecuteInput): Promise<unknown> {
  const resume = input.resume;
  if (resume === undefined || resume.method === "execute") return task.execute(input);
  if (resume.method === FAIL_METHOD) {
    const error = typeof resume.kwargs["error"] === "string" ? resume.kwargs["error"] : "the trigger failed.";
    // A timeout is the task's to judge (sensors fail without retry); a failed trigger fails the try.
    return Promise.reject(
      resume.kwargs["timeout"] === true
        ? task.deferralTimedOut(error)
        : new UpdraftError("TRIGGER_FAILED", error),
    );
  }
  const fn = (task as unknown as Record<string, unknown>)[resume.method];
  if (typeof fn !== "function")
    return Promise.reject(
      new UpdraftError(
        "TASK_DEFERRAL_INVALID",
        `Task "${task.taskId}" was deferred to resume in method "${resume.method}", which ${task.operatorName} no longer has. Clear the task to start it over.`,
      ),
    );
  return Promise.resolve(
    (fn as (i: ExecuteInput, event: unknown) => unknown).call(task, input, resume.event),
  );
}

function isSignal<T extends Error>(err: unknown, cls: abstract new (...a: never[]) => T): err is T {
  return err instanceof cls || (err instanceof Error && err.name === cls.name);
}

/** A user trigger's module path made absolute against the DAG file's folder. */
function absoluteClasspath(classpath: string, fileloc: string): string {
  if (!classpath.startsWith(USER_TRIGGER_PREFIX)) return classpath;
  const [path = "", name = "default"] = classpath.slice(USER_TRIGGER_PREFIX.length).split("#");
  const abs = isAbsolute(path) ? path : resolve(dirname(fileloc), path);
  return `${USER_TRIGGER_PREFIX}${abs}#${name}`;
}

/** The request a deferral or reschedule signal makes, or null for any other outcome. */
export function pauseRequest(err: unknown, fileloc: string): PauseRequest | null {
  if (isSignal(err, TaskRescheduled))
    return { kind: "reschedule", body: { reschedule_date: err.rescheduleDate.toISOString() } };
  if (!isSignal(err, TaskDeferred)) return null;
  const d = (err as TaskDeferred).deferral;
  const timeout = d.timeout === undefined ? null : parseDuration(d.timeout, "defer: timeout") / 1000;
  return {
    kind: "defer",
    body: {
      classpath: absoluteClasspath(d.trigger.classpath, fileloc),
      trigger_kwargs: d.trigger.kwargs,
      next_method: d.method ?? "execute",
      ...(d.kwargs === undefined ? {} : { next_kwargs: d.kwargs }),
      timeout_s: timeout,
    },
  };
}
