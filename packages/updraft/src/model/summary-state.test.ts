import { describe, expect, it } from "vitest";
import { summaryState } from "./summary-state.js";

describe("summaryState", () => {
  it("shows a failure before anything else, work in progress before work done", () => {
    expect(summaryState({ success: 9, failed: 1 })).toBe("failed");
    expect(summaryState({ success: 3, running: 1, skipped: 2 })).toBe("running");
    expect(summaryState({ success: 3, none: 1 })).toBeNull();
    expect(summaryState({ success: 3, skipped: 1 })).toBe("success");
    expect(summaryState({ skipped: 2, removed: 1 })).toBe("skipped");
  });

  it("is null for no instance and ignores zero counts", () => {
    expect(summaryState({})).toBeNull();
    expect(summaryState({ failed: 0, success: 2 })).toBe("success");
  });
});
