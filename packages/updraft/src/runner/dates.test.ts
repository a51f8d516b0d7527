import { describe, expect, it } from "vitest";
import { dsAdd, dsFormat, strftime, strptime, toDs, toTs, toTsNodash } from "./dates.js";

describe("Airflow date strings", () => {
  const d = new Date("2026-03-07T04:05:06Z");
  it("formats ds, ts and ts_nodash in UTC", () => {
    expect(toDs(d)).toBe("2026-03-07");
    expect(toTs(d)).toBe("2026-03-07T04:05:06+00:00");
    expect(toTs(new Date("2026-03-07T04:05:06.250Z"))).toBe("2026-03-07T04:05:06.250000+00:00");
    expect(toTsNodash(d)).toBe("20260307T040506");
  });
  it("supports strftime directives", () => {
    expect(strftime(d, "%Y/%m/%d %H:%M:%S %j %b %B %a %A %y %%")).toBe(
      "2026/03/07 04:05:06 066 Mar March Sat Saturday 26 %",
    );
    expect(() => strftime(d, "%Q")).toThrow(/"%Q" is not supported/);
  });
  it("adds days and reformats like Airflow's macros", () => {
    expect(dsAdd("2026-01-05", 7)).toBe("2026-01-12");
    expect(dsAdd("2026-03-01", -1)).toBe("2026-02-28");
    expect(dsFormat("2026-01-05", "%Y-%m-%d", "%d %b %Y")).toBe("05 Jan 2026");
    expect(dsFormat("20260105", "%Y%m%d", "%Y-%m-%d")).toBe("2026-01-05");
    expect(() => dsAdd("2026-02-30", 1)).toThrow(/does not match/);
    expect(strptime("07/Mar/2026 10:00", "%d/%b/%Y %H:%M").toISOString()).toBe("2026-03-07T10:00:00.000Z");
  });
});
