import { afterEach, describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import { serializeDag, timetableSummary } from "../model/serialize-dag.js";
import { and, asset, assetAll, assetAny, or, splitSchedule } from "./assets.js";
import { dag } from "./dag.js";
import { EmptyOperator } from "./operators/empty.js";
import { takeRegisteredDags } from "./registry.js";

afterEach(() => {
  takeRegisteredDags();
});

describe("asset()", () => {
  it("normalises the URI and defaults name and group", () => {
    const a = asset("S3://Bucket/Orders.parquet");
    expect(a.uri).toBe("s3://bucket/Orders.parquet");
    expect(a.name).toBe("s3://bucket/Orders.parquet");
    expect(a.group).toBe("asset");
    expect(asset("s3://b/k", { name: "orders", group: "sales", extra: { team: "x" } }).toRef()).toEqual({
      uri: "s3://b/k",
      name: "orders",
      group: "sales",
      extra: { team: "x" },
    });
  });

  it("refuses a bad URI at parse time with what to do", () => {
    expect(() => asset("orders.parquet")).toThrow(/has no scheme/);
    let err: unknown;
    try {
      asset("airflow://x");
    } catch (e) {
      err = e;
    }
    expect(isUpdraftError(err, "ASSET_URI_INVALID")).toBe(true);
  });

  it("refuses bad options and empty conditions", () => {
    expect(() => asset("s3://b/k", { name: "" })).toThrow(/name must be a non-empty string/);
    expect(() => and()).toThrow(/at least one asset/);
    expect(() => or(asset("s3://b/k"), "s3://x" as never)).toThrow(/argument 2 is not an asset/);
    expect(assetAll).toBe(and);
    expect(assetAny).toBe(or);
  });
});

describe("DAG schedules on assets", () => {
  const a = asset("s3://b/a");
  const b = asset("s3://b/b");
  const c = asset("s3://b/c");

  it("a list means all of them, as Airflow", () => {
    const d = dag({ dagId: "consumer", schedule: [a, b] }, () => {
      new EmptyOperator({ taskId: "t" });
    });
    const s = serializeDag(d, "/dags/c.ts", timetableSummary(d));
    expect(s.schedule).toBeNull();
    expect(s.timetable_summary).toBe("Asset");
    expect(s.asset_condition).toEqual({
      type: "all",
      objects: [
        { type: "asset", uri: "s3://b/a" },
        { type: "asset", uri: "s3://b/b" },
      ],
    });
    expect(s.schedule_assets?.map((x) => x.uri)).toEqual(["s3://b/a", "s3://b/b"]);
  });

  it("serializes or(a, and(b, c)) and assets-or-time", () => {
    const d = dag(
      {
        dagId: "either",
        schedule: { timetable: "0 * * * *", assets: or(a, and(b, c)) },
        startDate: "2026-01-01",
      },
      () => {
        new EmptyOperator({ taskId: "t", outlets: [c] });
      },
    );
    const s = serializeDag(d, "/dags/e.ts", timetableSummary(d));
    expect(s.schedule).toBe("0 * * * *");
    expect(s.timetable_summary).toMatch(/^Asset or /);
    expect(s.asset_condition?.type).toBe("any");
    expect(s.tasks[0]?.outlets).toEqual([{ uri: "s3://b/c", name: "s3://b/c", group: "asset", extra: {} }]);
  });

  it("leaves the serialized form of a DAG without assets as it was", () => {
    const d = dag({ dagId: "plain", schedule: "@daily", startDate: "2026-01-01" }, () => {
      new EmptyOperator({ taskId: "t" });
    });
    const s = serializeDag(d, "/dags/p.ts", timetableSummary(d));
    expect("asset_condition" in s).toBe(false);
    expect("outlets" in (s.tasks[0] ?? {})).toBe(false);
  });

  it("refuses an empty list, a non-asset item and bad outlets", () => {
    expect(() => splitSchedule([], "d")).toThrow(/empty list of assets/);
    expect(() => splitSchedule([a, "s3://b/x"], "d")).toThrow(/schedule item 2 is not an asset/);
    const d = dag({ dagId: "bad_outlets" }, () => {
      new EmptyOperator({ taskId: "t", outlets: ["s3://b/x"] as never });
    });
    expect(() => serializeDag(d, "/dags/b.ts", "None")).toThrow(/outlets must be a list of assets/);
  });
});
