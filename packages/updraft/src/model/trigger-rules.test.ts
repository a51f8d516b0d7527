import { describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import type { TaskInstanceState } from "./states.js";
import {
  TRIGGER_RULES,
  TriggerRule,
  countUpstreamStates,
  evaluateSetupConstraint,
  evaluateTriggerRule,
  parseTriggerRule,
} from "./trigger-rules.js";

type S = TaskInstanceState | null;
type Row = [upstreams: S[], expected: string];

const states = (list: S[]) => list.map((state) => ({ state }));

function decide(rule: TriggerRule, upstreams: S[], flagUpstreamFailed = true): string {
  return evaluateTriggerRule(rule, countUpstreamStates(states(upstreams)), { flagUpstreamFailed }).decision;
}

// Each row: direct upstream states (null = not finished yet) → decision with flag_upstream_failed.
const TABLE: Record<TriggerRule, Row[]> = {
  all_success: [
    [["success", "success"], "run"],
    [["success", null], "wait"],
    [["success", "skipped"], "skip"],
    [["skipped", null], "skip"],
    [["success", "failed"], "upstream_failed"],
    [["upstream_failed", null], "upstream_failed"],
    [["failed", "skipped"], "upstream_failed"],
    [["removed", "success"], "wait"],
  ],
  all_failed: [
    [["failed", "upstream_failed"], "run"],
    [["failed", null], "wait"],
    [["failed", "success"], "skip"],
    [["failed", "skipped"], "skip"],
    [["success", null], "skip"],
  ],
  all_done: [
    [["success", "failed", "skipped", "upstream_failed", "removed"], "run"],
    [["failed", null], "wait"],
    [["skipped", "skipped"], "run"],
  ],
  all_done_min_one_success: [
    [["success", "failed"], "run"],
    [["success", "upstream_failed"], "run"],
    [["success", null], "wait"],
    [["failed", null], "wait"],
    [["success", "skipped"], "skip"],
    [["skipped", null], "skip"],
    [["failed", "upstream_failed"], "upstream_failed"],
    [["failed", "removed"], "upstream_failed"],
  ],
  all_done_setup_success: [
    [["success", "failed"], "run"],
    [["failed", null], "wait"],
    [["skipped", "skipped"], "run"],
  ],
  one_success: [
    [["success", null], "run"],
    [["success", "failed"], "run"],
    [["failed", null], "wait"],
    [["skipped", null], "wait"],
    [["skipped", "skipped"], "skip"],
    [["failed", "skipped"], "upstream_failed"],
    [["failed", "upstream_failed"], "upstream_failed"],
    [["removed", "removed"], "upstream_failed"],
  ],
  one_failed: [
    [["failed", null], "run"],
    [["upstream_failed", null], "run"],
    [["success", null], "wait"],
    [["success", "skipped"], "skip"],
    [["success", "success"], "skip"],
  ],
  one_done: [
    [["success", null], "run"],
    [["failed", null], "run"],
    [["skipped", null], "wait"],
    [["upstream_failed", null], "wait"],
    [["skipped", "upstream_failed"], "skip"],
    [["skipped", "skipped"], "skip"],
  ],
  none_failed: [
    [["success", "skipped"], "run"],
    [["skipped", "skipped"], "run"],
    [["success", null], "wait"],
    [["success", "failed"], "upstream_failed"],
    [["upstream_failed", null], "upstream_failed"],
  ],
  none_skipped: [
    [["success", "failed", "upstream_failed"], "run"],
    [["success", null], "wait"],
    [["success", "skipped"], "skip"],
    [["skipped", null], "skip"],
  ],
  none_failed_min_one_success: [
    [["success", "skipped"], "run"],
    [["success", "success"], "run"],
    [["skipped", null], "wait"],
    [["skipped", "skipped"], "skip"],
    [["success", "failed"], "upstream_failed"],
    [["skipped", "upstream_failed"], "upstream_failed"],
  ],
  all_skipped: [
    [["skipped", "skipped"], "run"],
    [["skipped", null], "wait"],
    [["skipped", "success"], "skip"],
    [["failed", null], "skip"],
    [["upstream_failed", "skipped"], "skip"],
    // A removed upstream is neither skipped nor a reason to skip: Airflow waits forever.
    [["skipped", "removed"], "wait"],
  ],
  always: [
    [[null, null], "run"],
    [["failed", "upstream_failed"], "run"],
    [["skipped"], "run"],
  ],
};

describe("TriggerRule", () => {
  it("has Airflow's thirteen rules", () => {
    expect(TRIGGER_RULES).toHaveLength(13);
    expect(new Set(TRIGGER_RULES)).toEqual(new Set(Object.keys(TABLE)));
    expect(TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS).toBe("none_failed_min_one_success");
  });

  it("parses a rule or names the valid ones", () => {
    expect(parseTriggerRule("one_done")).toBe("one_done");
    try {
      parseTriggerRule("all_sucess", "load");
      expect.unreachable();
    } catch (err) {
      expect(isUpdraftError(err, "INVALID_TRIGGER_RULE")).toBe(true);
      expect((err as Error).message).toContain('task "load": "all_sucess" is not a trigger rule');
      expect((err as Error).message).toContain("none_failed_min_one_success");
    }
  });
});

describe("evaluateTriggerRule", () => {
  for (const rule of TRIGGER_RULES) {
    describe(rule, () => {
      it.each(TABLE[rule])("%j → %s", (upstreams, expected) => {
        expect(decide(rule, upstreams)).toBe(expected);
      });

      it("never settles a state without flag_upstream_failed", () => {
        for (const [upstreams, expected] of TABLE[rule]) {
          // Airflow quirk: without flagging, all-skipped passes none_failed_min_one_success.
          const quirk = rule === "none_failed_min_one_success" && upstreams.every((s) => s === "skipped");
          expect(decide(rule, upstreams, false)).toBe(expected === "run" || quirk ? "run" : "wait");
        }
      });

      it("runs a task without upstreams", () => {
        expect(decide(rule, [])).toBe("run");
      });
    });
  }

  it("explains why a task waits", () => {
    const outcome = evaluateTriggerRule("all_success", countUpstreamStates(states(["success", null])));
    expect(outcome).toEqual({
      decision: "wait",
      reason: expect.stringContaining("needs every upstream to succeed; 1 did not (yet)"),
    });
  });

  describe("all_done_setup_success", () => {
    const up = (list: [S, boolean][]) =>
      countUpstreamStates(list.map(([state, isSetup]) => ({ state, isSetup })));
    it.each<[[S, boolean][], string]>([
      [
        [
          ["success", true],
          ["failed", false],
        ],
        "run",
      ],
      [
        [
          ["success", true],
          ["skipped", true],
          ["failed", false],
        ],
        "run",
      ],
      [
        [
          ["success", true],
          [null, false],
        ],
        "wait",
      ],
      [
        [
          ["skipped", true],
          ["success", false],
        ],
        "skip",
      ],
      [
        [
          ["skipped", true],
          ["skipped", true],
        ],
        "skip",
      ],
      [
        [
          ["failed", true],
          ["success", false],
        ],
        "upstream_failed",
      ],
      [
        [
          ["upstream_failed", true],
          ["skipped", true],
        ],
        "upstream_failed",
      ],
      [
        [
          ["failed", true],
          [null, false],
        ],
        "wait",
      ],
    ])("%j → %s", (list, expected) => {
      expect(evaluateTriggerRule("all_done_setup_success", up(list)).decision).toBe(expected);
    });
  });

  describe("mapped task instances", () => {
    // An upstream mapped over 3 items shrank to 2: its third instance is removed.
    const counts = { success: 2, skipped: 0, failed: 0, upstream_failed: 0, removed: 1, done: 3, total: 3 };
    it("runs a mapped instance despite removed upstream instances", () => {
      expect(evaluateTriggerRule("all_success", counts, { mapIndex: 1 }).decision).toBe("run");
      expect(evaluateTriggerRule("none_failed", counts, { mapIndex: 1 }).decision).toBe("run");
    });
    it("removes a mapped instance whose index no longer exists upstream", () => {
      expect(evaluateTriggerRule("all_success", counts, { mapIndex: 2 }).decision).toBe("removed");
    });
    it("waits for an unmapped task with a removed upstream instance", () => {
      expect(evaluateTriggerRule("all_success", counts).decision).toBe("wait");
    });
    it("does not count removed instances as unfinished for all_done_min_one_success", () => {
      const c = { ...counts, success: 1, failed: 1 };
      expect(evaluateTriggerRule("all_done_min_one_success", c, { mapIndex: 0 }).decision).toBe("run");
      expect(
        evaluateTriggerRule("all_failed", { ...c, success: 0, failed: 2 }, { mapIndex: 0 }).decision,
      ).toBe("run");
    });
  });
});

describe("evaluateSetupConstraint", () => {
  const c = (list: S[]) => countUpstreamStates(states(list));
  it.each<[S[], string]>([
    [[], "run"],
    [["success", "success"], "run"],
    [["success", null], "wait"],
    [["skipped", null], "skip"],
    [["failed", "skipped"], "upstream_failed"],
    [["upstream_failed"], "upstream_failed"],
  ])("%j → %s", (list, expected) => {
    expect(evaluateSetupConstraint(c(list)).decision).toBe(expected);
  });
  it("only waits without flag_upstream_failed", () => {
    expect(evaluateSetupConstraint(c(["failed"]), { flagUpstreamFailed: false }).decision).toBe("wait");
  });
});

describe("countUpstreamStates", () => {
  it("counts finished states and setups, leaving unfinished ones out of done", () => {
    expect(
      countUpstreamStates([
        { state: "success", isSetup: true },
        { state: "skipped", isSetup: true },
        { state: "failed" },
        { state: "upstream_failed" },
        { state: "removed" },
        { state: "running" },
        { state: "up_for_retry" },
        { state: null, isSetup: true },
      ]),
    ).toEqual({
      success: 1,
      skipped: 1,
      failed: 1,
      upstream_failed: 1,
      removed: 1,
      done: 5,
      total: 8,
      setup_total: 3,
      setup_success: 1,
      setup_skipped: 1,
    });
  });
});
