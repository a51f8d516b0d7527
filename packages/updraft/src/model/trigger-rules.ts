import { UpdraftError } from "../common/errors.js";
import type { TaskInstanceState } from "./states.js";
import { TriggerRule, TRIGGER_RULES } from "../sdk/trigger-rule.js";

/*
 * When a task runs relative to its direct upstream tasks, with Airflow's names and meanings.
 * `all_done_min_one_success` comes from Airflow 3.1; the other twelve are Airflow 2.10's.
 */
// The constant lives in the SDK (DAG files import it); the model re-exports it.
export { TriggerRule, TRIGGER_RULES };

export function isTriggerRule(value: unknown): value is TriggerRule {
  return typeof value === "string" && (TRIGGER_RULES as readonly string[]).includes(value);
}

/** Throws INVALID_TRIGGER_RULE naming the value and the valid rules. */
export function parseTriggerRule(value: unknown, taskId?: string): TriggerRule {
  if (isTriggerRule(value)) return value;
  const where = taskId === undefined ? "" : `task "${taskId}": `;
  throw new UpdraftError(
    "INVALID_TRIGGER_RULE",
    `${where}${JSON.stringify(value)} is not a trigger rule. Use one of: ${TRIGGER_RULES.join(", ")}.`,
    { details: { value, ...(taskId === undefined ? {} : { task_id: taskId }) } },
  );
}

/**
 * The finished direct upstream task instances of one task instance, counted by state (Airflow's
 * `_UpstreamTIStates`). `total` is how many upstream task instances there are, finished or not
 * (for a mapped upstream, its expanded instances). The `setup_*` counts are the subset of the
 * same instances that belong to setup tasks.
 */
export interface UpstreamCounts {
  readonly success: number;
  readonly skipped: number;
  readonly failed: number;
  readonly upstream_failed: number;
  readonly removed: number;
  /** Finished upstreams in any state: success, failed, skipped, upstream_failed, removed. */
  readonly done: number;
  readonly total: number;
  readonly setup_total?: number;
  readonly setup_success?: number;
  readonly setup_skipped?: number;
}

export interface TriggerRuleOptions {
  /**
   * When true (the scheduler), a rule that can no longer be met decides `skip`,
   * `upstream_failed` or `removed`. When false (explaining "why is this not running"), such a
   * rule only ever decides `wait`. Default true.
   */
  readonly flagUpstreamFailed?: boolean;
  /** The evaluated instance's map index; -1 (default) when not mapped. */
  readonly mapIndex?: number;
}

/**
 * What the scheduler should do with a task instance whose upstreams look like the counts:
 * run it, leave it waiting, or set it to skipped / upstream_failed / removed without running.
 * `removed` only happens for a mapped instance whose upstream expansion shrank.
 */
export type TriggerRuleOutcome =
  | { readonly decision: "run" }
  | { readonly decision: "wait"; readonly reason: string }
  | { readonly decision: "skip"; readonly reason: string }
  | { readonly decision: "upstream_failed"; readonly reason: string }
  | { readonly decision: "removed"; readonly reason: string };

const RUN: TriggerRuleOutcome = { decision: "run" };

/**
 * Counts upstream task instances by state, for {@link evaluateTriggerRule}. Unfinished states
 * (null, queued, running, up_for_retry…) only count toward `total`.
 */
export function countUpstreamStates(
  upstreams: readonly { readonly state: TaskInstanceState | null; readonly isSetup?: boolean }[],
): UpstreamCounts {
  const c = {
    success: 0,
    skipped: 0,
    failed: 0,
    upstream_failed: 0,
    removed: 0,
    done: 0,
    total: upstreams.length,
    setup_total: 0,
    setup_success: 0,
    setup_skipped: 0,
  };
  for (const u of upstreams) {
    if (u.isSetup === true) c.setup_total++;
    switch (u.state) {
      case "success":
        c.success++;
        if (u.isSetup === true) c.setup_success++;
        break;
      case "skipped":
        c.skipped++;
        if (u.isSetup === true) c.setup_skipped++;
        break;
      case "failed":
        c.failed++;
        break;
      case "upstream_failed":
        c.upstream_failed++;
        break;
      case "removed":
        c.removed++;
        break;
      default:
        continue;
    }
    c.done++;
  }
  return c;
}

function describe(c: UpstreamCounts): string {
  return `upstream states: ${c.success} success, ${c.failed} failed, ${c.upstream_failed} upstream_failed, ${c.skipped} skipped, ${c.removed} removed, ${c.done}/${c.total} done`;
}

/**
 * Decides whether a task instance with the given trigger rule can run, following Airflow's
 * `TriggerRuleDep` (including its `flag_upstream_failed` state changes). A task with no
 * upstreams, or with `always`, runs.
 *
 * @example
 * ```ts
 * evaluateTriggerRule("all_success", { success: 1, skipped: 1, failed: 0, upstream_failed: 0, removed: 0, done: 2, total: 2 });
 * // { decision: "skip", reason: "…" }
 * ```
 */
export function evaluateTriggerRule(
  rule: TriggerRule,
  counts: UpstreamCounts,
  opts: TriggerRuleOptions = {},
): TriggerRuleOutcome {
  if (counts.total === 0 || rule === "always") return RUN;
  const flag = opts.flagUpstreamFailed ?? true;
  const mapIndex = opts.mapIndex ?? -1;
  const { success, skipped, failed, upstream_failed: upstreamFailed, removed, done, total } = counts;
  const setupTotal = counts.setup_total ?? 0;
  const setupSuccess = counts.setup_success ?? 0;
  const setupSkipped = counts.setup_skipped ?? 0;
  const upstreamDone = done >= total;
  // Removed upstream instances of a mapped upstream do not count against a mapped instance.
  const removedAllowance = mapIndex > -1 ? removed : 0;
  const why = (text: string): string => `trigger rule "${rule}": ${text} (${describe(counts)})`;

  if (flag) {
    const settled = settle(rule, counts, mapIndex, upstreamDone, setupTotal, setupSuccess, setupSkipped);
    if (settled !== null) return { decision: settled.decision, reason: why(settled.text) };
  }

  let unmet: string | null = null;
  switch (rule) {
    case "all_success": {
      const nonSuccess = total - success - removedAllowance;
      if (nonSuccess > 0) unmet = `needs every upstream to succeed; ${nonSuccess} did not (yet)`;
      break;
    }
    case "all_failed": {
      const nonFailure = total - failed - upstreamFailed - removedAllowance;
      if (nonFailure > 0) unmet = `needs every upstream to fail; ${nonFailure} did not (yet)`;
      break;
    }
    case "all_done":
      if (!upstreamDone) unmet = `needs every upstream to finish; ${total - done} not finished`;
      break;
    case "one_success":
      if (success <= 0) unmet = "needs one upstream to succeed; none has";
      break;
    case "one_failed":
      if (failed === 0 && upstreamFailed === 0) unmet = "needs one upstream to fail; none has";
      break;
    case "one_done":
      if (success + failed <= 0) unmet = "needs one upstream to succeed or fail; none has";
      break;
    case "none_failed":
    case "none_failed_min_one_success": {
      const pending = total - success - skipped - removedAllowance;
      if (pending > 0) unmet = `needs every upstream to succeed or be skipped; ${pending} did not (yet)`;
      break;
    }
    case "none_skipped":
      if (!upstreamDone || skipped > 0) {
        unmet =
          skipped > 0
            ? `needs no upstream skipped; ${skipped} skipped`
            : `needs every upstream to finish; ${total - done} not finished`;
      }
      break;
    case "all_skipped": {
      const nonSkipped = total - skipped;
      if (nonSkipped > 0) unmet = `needs every upstream skipped; ${nonSkipped} not skipped (yet)`;
      break;
    }
    case "all_done_setup_success":
      if (!upstreamDone) unmet = `needs every upstream to finish; ${total - done} not finished`;
      else if (setupTotal > 0 && setupSuccess === 0) unmet = "needs one upstream setup task to succeed";
      break;
    case "all_done_min_one_success": {
      const nonSkippedDone = success + failed + upstreamFailed + removed - removedAllowance;
      const nonSkippedTotal = total - skipped - removedAllowance;
      if (skipped > 0) unmet = `needs no upstream skipped; ${skipped} skipped`;
      else if (nonSkippedDone < nonSkippedTotal) {
        unmet = `needs every upstream to finish; ${nonSkippedTotal - nonSkippedDone} not finished`;
      } else if (success === 0) unmet = "needs one upstream to succeed; none has";
      break;
    }
    default: {
      const never: never = rule;
      throw new UpdraftError("INVALID_TRIGGER_RULE", `Unknown trigger rule ${JSON.stringify(never)}.`);
    }
  }
  return unmet === null ? RUN : { decision: "wait", reason: why(unmet) };
}

interface Settled {
  decision: "skip" | "upstream_failed" | "removed";
  text: string;
}

/** The state Airflow sets without running the task, once the rule can no longer be met. */
function settle(
  rule: TriggerRule,
  c: UpstreamCounts,
  mapIndex: number,
  upstreamDone: boolean,
  setupTotal: number,
  setupSuccess: number,
  setupSkipped: number,
): Settled | null {
  const { success, skipped, failed, upstream_failed: upstreamFailed, removed, done, total } = c;
  const anyFailure = failed > 0 || upstreamFailed > 0;
  switch (rule) {
    case "all_success":
      if (anyFailure) return { decision: "upstream_failed", text: "an upstream failed" };
      if (skipped > 0) return { decision: "skip", text: "an upstream was skipped" };
      if (removed > 0 && success > 0 && mapIndex > -1 && mapIndex >= success) {
        return { decision: "removed", text: `map index ${mapIndex} no longer exists upstream` };
      }
      return null;
    case "all_failed":
      return success > 0 || skipped > 0
        ? { decision: "skip", text: "an upstream succeeded or was skipped" }
        : null;
    case "one_success":
      if (upstreamDone && done === skipped) return { decision: "skip", text: "every upstream was skipped" };
      if (upstreamDone && success <= 0) {
        return { decision: "upstream_failed", text: "every upstream finished and none succeeded" };
      }
      return null;
    case "one_failed":
      return upstreamDone && !anyFailure
        ? { decision: "skip", text: "every upstream finished and none failed" }
        : null;
    case "one_done":
      return upstreamDone && failed === 0 && success === 0
        ? { decision: "skip", text: "every upstream finished and none succeeded or failed" }
        : null;
    case "none_failed":
      return anyFailure ? { decision: "upstream_failed", text: "an upstream failed" } : null;
    case "none_failed_min_one_success":
      if (anyFailure) return { decision: "upstream_failed", text: "an upstream failed" };
      if (skipped === total) return { decision: "skip", text: "every upstream was skipped" };
      return null;
    case "none_skipped":
      return skipped > 0 ? { decision: "skip", text: "an upstream was skipped" } : null;
    case "all_skipped":
      return success > 0 || anyFailure ? { decision: "skip", text: "an upstream succeeded or failed" } : null;
    case "all_done_min_one_success":
      if (skipped > 0) return { decision: "skip", text: "an upstream was skipped" };
      if (success + failed + upstreamFailed + removed >= total - skipped && success === 0) {
        return { decision: "upstream_failed", text: "every upstream finished and none succeeded" };
      }
      return null;
    case "all_done_setup_success":
      if (upstreamDone && setupTotal > 0 && setupSkipped >= setupTotal) {
        return { decision: "skip", text: "every upstream setup task was skipped" };
      }
      if (upstreamDone && setupTotal > 0 && setupSuccess === 0) {
        return { decision: "upstream_failed", text: "no upstream setup task succeeded" };
      }
      return null;
    case "all_done":
    case "always":
      return null;
  }
}

/**
 * Airflow's constraint from indirect setup tasks (setups upstream of this task's upstreams, not
 * direct upstreams): every relevant setup must succeed. `counts` cover those setups only.
 * A failed setup makes the task upstream_failed, a skipped one skips it (when flagging).
 */
export function evaluateSetupConstraint(
  counts: UpstreamCounts,
  opts: TriggerRuleOptions = {},
): TriggerRuleOutcome {
  if (counts.total === 0) return RUN;
  const flag = opts.flagUpstreamFailed ?? true;
  const mapIndex = opts.mapIndex ?? -1;
  const why = (text: string): string => `setup constraint: ${text} (${describe(counts)})`;
  if (flag) {
    if (counts.failed > 0 || counts.upstream_failed > 0) {
      return { decision: "upstream_failed", reason: why("a setup task failed") };
    }
    if (counts.skipped > 0) return { decision: "skip", reason: why("a setup task was skipped") };
    if (counts.removed > 0 && counts.success > 0 && mapIndex > -1 && mapIndex >= counts.success) {
      return { decision: "removed", reason: why(`map index ${mapIndex} no longer exists upstream`) };
    }
  }
  const nonSuccess = counts.total - counts.success - (mapIndex > -1 ? counts.removed : 0);
  return nonSuccess > 0
    ? { decision: "wait", reason: why(`every setup task must succeed; ${nonSuccess} did not (yet)`) }
    : RUN;
}
