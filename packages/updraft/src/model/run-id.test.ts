import { describe, expect, it } from "vitest";
import { generateRunId, pythonIsoformat, pythonStr } from "./run-id.js";

// Airflow 2.10 airflow/models/dagrun.py DagRun.generate_run_id: f"{run_type}__{logical_date.isoformat()}",
// where isoformat() of an aware UTC datetime prints "+00:00" and microseconds only when not zero.
describe("run ids in Airflow's format", () => {
  it("prints each run type's prefix and the logical date as Python's isoformat()", () => {
    const d = new Date("2024-01-03T00:00:00Z");
    expect(generateRunId("scheduled", d)).toBe("scheduled__2024-01-03T00:00:00+00:00");
    expect(generateRunId("manual", d)).toBe("manual__2024-01-03T00:00:00+00:00");
    expect(generateRunId("backfill", d)).toBe("backfill__2024-01-03T00:00:00+00:00");
    expect(generateRunId("asset_triggered", d)).toBe("asset_triggered__2024-01-03T00:00:00+00:00");
  });

  it("prints sub-second dates with six fraction digits, as datetime.isoformat() does", () => {
    // datetime(2026, 11, 28, 4, 5, 6, 789000, tzinfo=timezone.utc).isoformat()
    expect(pythonIsoformat(new Date("2026-11-28T04:05:06.789Z"))).toBe("2026-11-28T04:05:06.789000+00:00");
    expect(pythonIsoformat(new Date("2026-11-28T04:05:06.007Z"))).toBe("2026-11-28T04:05:06.007000+00:00");
  });

  it("prints str(datetime) with a space, as Airflow hashes and logs it", () => {
    expect(pythonStr(new Date("2024-01-01T00:00:00Z"))).toBe("2024-01-01 00:00:00+00:00");
    expect(pythonStr(new Date("0099-01-01T00:00:00Z"))).toBe("0099-01-01 00:00:00+00:00");
  });
});
