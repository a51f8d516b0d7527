// Conformance with Airflow 2.10's trigger rules, exhaustively: every combination of up to three
// direct upstream states (unfinished, success, failed, skipped, upstream_failed, removed), with and
// without flag_upstream_failed, unmapped and mapped, with and without setup upstreams. The oracle
// below restates, rule by rule, what airflow/ti_deps/deps/trigger_rule_dep.py
// (TriggerRuleDep._get_dep_statuses → _evaluate_direct_relatives) decides; the implementation under
// test is src/model/trigger-rules.ts. A disagreement prints the rule, the states and both answers.
import { describe, expect, it } from "vitest";
import type { TaskInstanceState } from "./states.js";
import { countUpstreamStates, evaluateTriggerRule, type TriggerRule } from "./trigger-rules.js";

type Upstream = { state: TaskInstanceState | null; isSetup: boolean };
type Decision = "run" | "wait" | "skip" | "upstream_failed" | "removed";

/** The trigger rules Airflow 2.10 has (all_done_min_one_success arrived in 3.1: tested elsewhere). */
const AIRFLOW_2_10_RULES: TriggerRule[] = [
  "all_success",
  "all_failed",
  "all_done",
  "all_done_setup_success",
  "one_success",
  "one_failed",
  "one_done",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
  "all_skipped",
  "always",
];

const STATES: (TaskInstanceState | null)[] = [
  null,
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "removed",
];

/** Airflow's decision for a task instance whose direct upstreams are `ups`. */
function airflow(
  rule: TriggerRule,
  ups: Upstream[],
  flagUpstreamFailed: boolean,
  mapIndex: number,
): Decision {
  // _get_dep_statuses: no upstream, or ALWAYS → the dependency passes.
  if (ups.length === 0 || rule === "always") return "run";
  // _UpstreamTIStates.calculate counts finished upstream instances only (State.finished).
  const finished = ups.filter((u) => u.state !== null);
  const n = (s: TaskInstanceState) => finished.filter((u) => u.state === s).length;
  const success = n("success");
  const skipped = n("skipped");
  const failed = n("failed");
  const upstreamFailed = n("upstream_failed");
  const removed = n("removed");
  const done = finished.length;
  const successSetup = finished.filter((u) => u.isSetup && u.state === "success").length;
  const skippedSetup = finished.filter((u) => u.isSetup && u.state === "skipped").length;
  const upstream = ups.length;
  const upstreamSetup = ups.filter((u) => u.isSetup).length;
  const upstreamDone = done >= upstream;

  // The flag_upstream_failed block: states set without running the task.
  let newState: Decision | null = null;
  if (flagUpstreamFailed) {
    switch (rule) {
      case "all_success":
        if (upstreamFailed || failed) newState = "upstream_failed";
        else if (skipped) newState = "skip";
        else if (removed && success && mapIndex > -1 && mapIndex >= success) newState = "removed";
        break;
      case "all_failed":
        if (success || skipped) newState = "skip";
        break;
      case "one_success":
        if (upstreamDone && done === skipped) newState = "skip";
        else if (upstreamDone && success <= 0) newState = "upstream_failed";
        break;
      case "one_failed":
        if (upstreamDone && !(failed || upstreamFailed)) newState = "skip";
        break;
      case "one_done":
        if (upstreamDone && !(failed || success)) newState = "skip";
        break;
      case "none_failed":
        if (upstreamFailed || failed) newState = "upstream_failed";
        break;
      case "none_failed_min_one_success":
        if (upstreamFailed || failed) newState = "upstream_failed";
        else if (skipped === upstream) newState = "skip";
        break;
      case "none_skipped":
        if (skipped) newState = "skip";
        break;
      case "all_skipped":
        if (success || failed || upstreamFailed) newState = "skip";
        break;
      case "all_done_setup_success":
        if (upstreamDone && upstreamSetup && skippedSetup >= upstreamSetup) newState = "skip";
        else if (upstreamDone && upstreamSetup && successSetup === 0) newState = "upstream_failed";
        break;
      default:
        break;
    }
  }
  if (newState !== null) return newState;

  // The failing-status block: the dependency is not met yet.
  const removedAllowance = mapIndex > -1 ? removed : 0;
  let failing: boolean;
  switch (rule) {
    case "one_success":
      failing = success <= 0;
      break;
    case "one_failed":
      failing = !failed && !upstreamFailed;
      break;
    case "one_done":
      failing = success + failed <= 0;
      break;
    case "all_success":
      failing = upstream - success - removedAllowance > 0;
      break;
    case "all_failed":
      failing = upstream - failed - upstreamFailed - removedAllowance > 0;
      break;
    case "all_done":
      failing = !upstreamDone;
      break;
    case "none_failed":
    case "none_failed_min_one_success":
      failing = upstream - success - skipped - removedAllowance > 0;
      break;
    case "none_skipped":
      failing = !upstreamDone || skipped > 0;
      break;
    case "all_skipped":
      failing = upstream - skipped > 0;
      break;
    case "all_done_setup_success":
      failing = !upstreamDone || (upstreamSetup > 0 && successSetup === 0);
      break;
    default:
      throw new Error(`no oracle for ${rule}`);
  }
  return failing ? "wait" : "run";
}

/** Every list of `size` upstreams drawn from STATES (order matters not, but all orders are cheap). */
function combinations(size: number): (TaskInstanceState | null)[][] {
  if (size === 0) return [[]];
  return combinations(size - 1).flatMap((rest) => STATES.map((s) => [s, ...rest]));
}

interface Case {
  rule: TriggerRule;
  ups: Upstream[];
  flag: boolean;
  mapIndex: number;
}

function* cases(): Generator<Case> {
  for (const rule of AIRFLOW_2_10_RULES) {
    for (let size = 0; size <= 3; size++) {
      for (const states of combinations(size)) {
        // setupMask: which upstreams are setup tasks (none, the first, all).
        for (const setupMask of [0, 1, (1 << size) - 1]) {
          const ups = states.map((state, i) => ({ state, isSetup: (setupMask & (1 << i)) !== 0 }));
          for (const flag of [true, false]) {
            for (const mapIndex of [-1, 0, 2]) yield { rule, ups, flag, mapIndex };
          }
        }
      }
    }
  }
}

describe("trigger rules against Airflow 2.10's TriggerRuleDep", () => {
  it("decides as Airflow for every combination of up to three upstream states", () => {
    const mismatches: string[] = [];
    let checked = 0;
    for (const c of cases()) {
      const expected = airflow(c.rule, c.ups, c.flag, c.mapIndex);
      const actual = evaluateTriggerRule(c.rule, countUpstreamStates(c.ups), {
        flagUpstreamFailed: c.flag,
        mapIndex: c.mapIndex,
      }).decision;
      checked++;
      if (actual !== expected && mismatches.length < 20) {
        mismatches.push(
          `${c.rule} upstreams=${JSON.stringify(c.ups)} flag=${c.flag} map_index=${c.mapIndex}: Airflow ${expected}, Updraft ${actual}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
    // 12 rules × (1 + 6 + 36 + 216 state lists) × 3 setup masks × 2 flags × 3 map indexes
    expect(checked).toBe(12 * 259 * 3 * 2 * 3);
  });

  it("the oracle itself distinguishes the rules (a broken oracle would agree with anything)", () => {
    const ups: Upstream[] = [
      { state: "success", isSetup: false },
      { state: "skipped", isSetup: false },
    ];
    expect(airflow("all_success", ups, true, -1)).toBe("skip");
    expect(airflow("none_failed", ups, true, -1)).toBe("run");
    expect(airflow("one_failed", ups, true, -1)).toBe("skip");
    expect(airflow("all_done", ups, true, -1)).toBe("run");
    expect(airflow("all_done", [{ state: null, isSetup: false }], true, -1)).toBe("wait");
  });
});
