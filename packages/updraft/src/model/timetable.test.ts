import { describe, expect, it } from "vitest";
import { isUpdraftError, type ErrorCode } from "../common/errors.js";
import type { DagRunInfo, DataInterval, Timetable, TimeRestriction } from "./timetable.js";
import { dataIntervalsBetween, parseSchedule, validateTimezone } from "./timetable.js";

const d = (iso: string) => new Date(iso);
const iso = (x: Date) => x.toISOString().replace(".000Z", "Z");
const show = (info: DagRunInfo | null) =>
  info === null
    ? null
    : { start: iso(info.dataInterval.start), end: iso(info.dataInterval.end), runAfter: iso(info.runAfter) };
const interval = (i: DataInterval) => [iso(i.start), iso(i.end)];

function next(
  tt: Timetable,
  last: [string, string] | null,
  restriction: Partial<TimeRestriction> & { now?: string },
) {
  const info = tt.nextDagRunInfo({
    lastAutomatedDataInterval: last === null ? null : { start: d(last[0]), end: d(last[1]) },
    restriction: {
      earliest: restriction.earliest ?? null,
      latest: restriction.latest ?? null,
      catchup: restriction.catchup ?? true,
    },
    now: d(restriction.now ?? "2030-01-01T00:00:00Z"),
  });
  if (info !== null) expect(info.logicalDate).toEqual(info.dataInterval.start);
  return show(info);
}

const starts = (tt: Timetable, from: string, to: string) =>
  dataIntervalsBetween(tt, d(from), d(to)).map((i) => interval(i.dataInterval));

function expectError(fn: () => unknown, code: ErrorCode, ...fragments: string[]) {
  try {
    fn();
    expect.unreachable(`expected ${code}`);
  } catch (err) {
    expect(isUpdraftError(err, code), String(err)).toBe(true);
    for (const f of fragments) expect((err as Error).message).toContain(f);
  }
}

describe("parseSchedule", () => {
  it.each<[string | number | null, Timetable["kind"], string]>([
    ["0 6 * * *", "cron", "0 6 * * *"],
    ["  0   6 * * 1-5 ", "cron", "0 6 * * 1-5"],
    ["@daily", "cron", "@daily"],
    ["@quarterly", "cron", "@quarterly"],
    ["1h", "delta", "1h"],
    ["90m", "delta", "1h30m"],
    [1_800_000, "delta", "30m"],
    ["@once", "once", "@once"],
    [null, "none", "None"],
  ])("%j → %s timetable, summary %j", (schedule, kind, summary) => {
    const tt = parseSchedule(schedule, "Europe/Berlin");
    expect(tt.kind).toBe(kind);
    expect(tt.summary).toBe(summary);
    expect(tt.timezone).toBe("Europe/Berlin");
    expect(tt.periodic).toBe(kind === "cron" || kind === "delta");
    expect(tt.canBeScheduled).toBe(kind !== "none");
    expect(parseSchedule(tt.schedule, tt.timezone).summary).toBe(summary);
  });

  it.each<[string | number, string]>([
    ["0 6 * *", "exactly 5 fields"],
    ["0 0 6 * * *", "exactly 5 fields"],
    ["61 * * * *", "61 * * * *"],
    ["@fortnightly", '"@fortnightly" is not a known preset'],
    ["@continuous", "continuous runs are not supported"],
    ["soon", "neither a cron expression, a preset nor a duration"],
    ["", "it is empty"],
    [0, "longer than 0"],
    [-5, "neither a cron expression"],
    ["0 0 30 2 *", "never fires"],
  ])("rejects %j", (schedule, reason) => {
    expectError(
      () => parseSchedule(schedule, "UTC"),
      "INVALID_SCHEDULE",
      JSON.stringify(schedule),
      reason,
      "@hourly",
    );
  });

  it("rejects an unknown time zone", () => {
    expectError(
      () => parseSchedule("@daily", "Mars/Olympus"),
      "INVALID_TIMEZONE",
      '"Mars/Olympus"',
      "Europe/Berlin",
    );
    expect(validateTimezone(" America/New_York ")).toBe("America/New_York");
    expectError(() => validateTimezone(""), "INVALID_TIMEZONE");
  });
});

describe("cron timetable", () => {
  const daily = parseSchedule("@daily", "UTC");

  it("schedules the first interval from start_date and runs it after its end (catchup)", () => {
    expect(next(daily, null, { earliest: d("2024-01-01T00:00:00Z") })).toEqual({
      start: "2024-01-01T00:00:00Z",
      end: "2024-01-02T00:00:00Z",
      runAfter: "2024-01-02T00:00:00Z",
    });
    expect(
      next(daily, ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], { earliest: d("2024-01-01T00:00:00Z") }),
    ).toMatchObject({ start: "2024-01-02T00:00:00Z", end: "2024-01-03T00:00:00Z" });
  });

  it("aligns a start_date between fire times to the next one", () => {
    expect(next(daily, null, { earliest: d("2024-01-01T10:00:00Z") })).toMatchObject({
      start: "2024-01-02T00:00:00Z",
    });
    const weekly = parseSchedule("@weekly", "UTC"); // Sundays
    expect(next(weekly, null, { earliest: d("2024-01-03T00:00:00Z") })).toMatchObject({
      start: "2024-01-07T00:00:00Z",
      end: "2024-01-14T00:00:00Z",
    });
    const quarterly = parseSchedule("@quarterly", "UTC");
    expect(next(quarterly, null, { earliest: d("2024-02-15T00:00:00Z") })).toMatchObject({
      start: "2024-04-01T00:00:00Z",
      end: "2024-07-01T00:00:00Z",
    });
  });

  it("realigns after a schedule change", () => {
    const sixAm = parseSchedule("0 6 * * *", "UTC");
    expect(next(sixAm, ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], {})).toMatchObject({
      start: "2024-01-01T06:00:00Z",
      end: "2024-01-02T06:00:00Z",
    });
  });

  it("stops after end_date (an interval starting at end_date still runs)", () => {
    const restriction = { earliest: d("2024-01-01T00:00:00Z"), latest: d("2024-01-03T00:00:00Z") };
    expect(next(daily, ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"], restriction)).toMatchObject({
      start: "2024-01-03T00:00:00Z",
    });
    expect(next(daily, ["2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z"], restriction)).toBeNull();
  });

  it("needs a start_date for the first run with catchup", () => {
    expect(next(daily, null, {})).toBeNull();
  });

  describe("without catchup", () => {
    const base = { earliest: d("2024-01-01T00:00:00Z"), catchup: false };
    it("schedules only the latest complete interval before now", () => {
      expect(next(daily, null, { ...base, now: "2024-03-10T12:00:00Z" })).toEqual({
        start: "2024-03-09T00:00:00Z",
        end: "2024-03-10T00:00:00Z",
        runAfter: "2024-03-10T00:00:00Z",
      });
      expect(
        next(daily, ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"], {
          ...base,
          now: "2024-03-10T12:00:00Z",
        }),
      ).toMatchObject({ start: "2024-03-09T00:00:00Z" });
    });
    it("counts an interval ending exactly now as complete", () => {
      expect(next(daily, null, { ...base, now: "2024-03-10T00:00:00Z" })).toMatchObject({
        start: "2024-03-09T00:00:00Z",
      });
      expect(next(daily, null, { ...base, now: "2024-03-10T00:00:00.001Z" })).toMatchObject({
        start: "2024-03-09T00:00:00Z",
      });
    });
    it("continues normally once caught up", () => {
      expect(
        next(daily, ["2024-03-09T00:00:00Z", "2024-03-10T00:00:00Z"], {
          ...base,
          now: "2024-03-10T12:00:00Z",
        }),
      ).toMatchObject({ start: "2024-03-10T00:00:00Z", runAfter: "2024-03-11T00:00:00Z" });
    });
    it("never goes before start_date", () => {
      expect(
        next(daily, null, {
          earliest: d("2024-03-09T12:00:00Z"),
          catchup: false,
          now: "2024-03-10T12:00:00Z",
        }),
      ).toMatchObject({ start: "2024-03-10T00:00:00Z", runAfter: "2024-03-11T00:00:00Z" });
      expect(
        next(daily, null, {
          earliest: d("2024-06-01T00:00:00Z"),
          catchup: false,
          now: "2024-03-10T12:00:00Z",
        }),
      ).toMatchObject({ start: "2024-06-01T00:00:00Z" });
    });
    it("works without a start_date", () => {
      expect(next(daily, null, { catchup: false, now: "2024-03-10T12:00:00Z" })).toMatchObject({
        start: "2024-03-09T00:00:00Z",
      });
    });
  });

  it("infers a manual run's interval as the last complete one", () => {
    expect(interval(daily.inferManualDataInterval(d("2024-01-25T01:00:00Z")))).toEqual([
      "2024-01-24T00:00:00Z",
      "2024-01-25T00:00:00Z",
    ]);
    expect(interval(daily.inferManualDataInterval(d("2024-01-25T00:00:00Z")))).toEqual([
      "2024-01-24T00:00:00Z",
      "2024-01-25T00:00:00Z",
    ]);
    const berlin = parseSchedule("0 6 * * *", "Europe/Berlin");
    expect(interval(berlin.inferManualDataInterval(d("2024-05-02T10:00:00Z")))).toEqual([
      "2024-05-01T04:00:00Z",
      "2024-05-02T04:00:00Z",
    ]);
  });

  describe("daylight saving time", () => {
    it("keeps midnight in America/New_York across both transitions (23 h and 25 h days)", () => {
      const ny = parseSchedule("@daily", "America/New_York");
      expect(starts(ny, "2024-03-09T05:00:00Z", "2024-03-11T04:00:00Z")).toEqual([
        ["2024-03-09T05:00:00Z", "2024-03-10T05:00:00Z"],
        ["2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z"],
        ["2024-03-11T04:00:00Z", "2024-03-12T04:00:00Z"],
      ]);
      expect(starts(ny, "2024-11-02T04:00:00Z", "2024-11-04T05:00:00Z")).toEqual([
        ["2024-11-02T04:00:00Z", "2024-11-03T04:00:00Z"],
        ["2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"],
        ["2024-11-04T05:00:00Z", "2024-11-05T05:00:00Z"],
      ]);
    });

    it("fires a wall time skipped in spring once, an hour later (America/New_York)", () => {
      const tt = parseSchedule("30 2 * * *", "America/New_York");
      expect(starts(tt, "2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z")).toEqual([
        ["2024-03-09T07:30:00Z", "2024-03-10T07:30:00Z"], // 02:30 EST → 03:30 EDT
        ["2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z"],
        ["2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"],
      ]);
    });

    it("fires a repeated wall time once, at its second occurrence (as Airflow)", () => {
      const berlin = parseSchedule("30 2 * * *", "Europe/Berlin");
      expect(starts(berlin, "2024-10-26T00:30:00Z", "2024-10-27T01:30:00Z")).toEqual([
        ["2024-10-26T00:30:00Z", "2024-10-27T01:30:00Z"], // 02:30 CEST → 02:30 CET, 25 h
        ["2024-10-27T01:30:00Z", "2024-10-28T01:30:00Z"],
      ]);
      const ny = parseSchedule("30 1 * * *", "America/New_York");
      expect(starts(ny, "2024-11-02T05:30:00Z", "2024-11-03T06:30:00Z")).toEqual([
        ["2024-11-02T05:30:00Z", "2024-11-03T06:30:00Z"], // 01:30 EDT → 01:30 EST
        ["2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"],
      ]);
      // Started inside the repeated hour, before the second 02:30: that one is next.
      expect(next(berlin, null, { earliest: d("2024-10-27T00:45:00Z") })).toMatchObject({
        start: "2024-10-27T01:30:00Z",
      });
    });

    it("keeps 06:00 in Europe/Berlin across both transitions", () => {
      const tt = parseSchedule("0 6 * * *", "Europe/Berlin");
      expect(starts(tt, "2024-03-30T05:00:00Z", "2024-03-31T04:00:00Z")).toEqual([
        ["2024-03-30T05:00:00Z", "2024-03-31T04:00:00Z"],
        ["2024-03-31T04:00:00Z", "2024-04-01T04:00:00Z"],
      ]);
      expect(starts(tt, "2024-10-26T04:00:00Z", "2024-10-27T05:00:00Z")).toEqual([
        ["2024-10-26T04:00:00Z", "2024-10-27T05:00:00Z"],
        ["2024-10-27T05:00:00Z", "2024-10-28T05:00:00Z"],
      ]);
    });

    it("schedules every real hour of an hourly DAG, including the repeated one (America/New_York)", () => {
      const hourly = parseSchedule("@hourly", "America/New_York");
      const fall = starts(hourly, "2024-11-03T04:00:00Z", "2024-11-03T08:00:00Z");
      expect(fall.map(([s]) => s)).toEqual([
        "2024-11-03T04:00:00Z", // 00:00 EDT
        "2024-11-03T05:00:00Z", // 01:00 EDT
        "2024-11-03T06:00:00Z", // 01:00 EST
        "2024-11-03T07:00:00Z", // 02:00 EST
        "2024-11-03T08:00:00Z",
      ]);
      for (const [s, e] of fall) expect(d(e!).getTime() - d(s!).getTime()).toBe(3_600_000);
      const spring = starts(hourly, "2024-03-10T05:00:00Z", "2024-03-10T08:00:00Z");
      expect(spring.map(([s]) => s)).toEqual([
        "2024-03-10T05:00:00Z", // 00:00 EST
        "2024-03-10T06:00:00Z", // 01:00 EST
        "2024-03-10T07:00:00Z", // 03:00 EDT
        "2024-03-10T08:00:00Z",
      ]);
      for (const [s, e] of spring) expect(d(e!).getTime() - d(s!).getTime()).toBe(3_600_000);
    });

    it.each([
      ["America/New_York", "2024-03-09T00:00:00Z"],
      ["America/New_York", "2024-11-02T00:00:00Z"],
      ["Europe/Berlin", "2024-03-30T00:00:00Z"],
      ["Europe/Berlin", "2024-10-26T00:00:00Z"],
      ["Australia/Lord_Howe", "2024-04-06T00:00:00Z"], // clocks go back 30 minutes
      ["Australia/Lord_Howe", "2024-10-05T00:00:00Z"],
    ])("keeps intervals contiguous and manual intervals consistent in %s from %s", (tz, from) => {
      for (const schedule of [
        "30 2 * * *",
        "0 */2 * * *",
        "15,45 1-3 * * *",
        "@hourly",
        "*/20 * * * *",
        "0 3 * * 0",
      ]) {
        const tt = parseSchedule(schedule, tz);
        const to = new Date(d(from).getTime() + 3 * 24 * 3_600_000);
        const runs = dataIntervalsBetween(tt, d(from), to);
        // Problems are collected and asserted once: thousands of expect() calls are slow.
        const problems: string[] = [];
        const ends = new Set<number>();
        const byStart = new Map<number, (typeof runs)[number]>();
        for (let i = 0; i < runs.length; i++) {
          const { start, end } = runs[i]!.dataInterval;
          if (!(start < end)) problems.push(`${schedule}: empty interval at ${iso(start)}`);
          if (i > 0 && start.getTime() !== runs[i - 1]!.dataInterval.end.getTime()) {
            problems.push(`${schedule}: gap before ${iso(start)}`);
          }
          ends.add(start.getTime()).add(end.getTime());
          byStart.set(start.getTime(), runs[i]!);
        }
        for (let t = d(from).getTime() + 86_400_000; t < to.getTime(); t += 7 * 60_000) {
          const manual = tt.inferManualDataInterval(new Date(t));
          const at = iso(new Date(t));
          if (manual.end.getTime() > t)
            problems.push(`${schedule}: manual interval at ${at} ends in the future`);
          if (manual.start >= runs[0]!.dataInterval.start && !ends.has(manual.end.getTime())) {
            problems.push(`${schedule}: manual interval at ${at} does not end on a scheduled boundary`);
          }
          const after = byStart.get(manual.end.getTime());
          if (after !== undefined && after.dataInterval.end.getTime() <= t) {
            problems.push(`${schedule}: manual interval at ${at} is not the latest complete one`);
          }
        }
        expect(problems).toEqual([]);
      }
    });

    it("schedules every half hour through the Europe/Berlin autumn fold", () => {
      const tt = parseSchedule("*/30 * * * *", "Europe/Berlin");
      const got = starts(tt, "2024-10-27T00:00:00Z", "2024-10-27T02:00:00Z").map(([s]) => s);
      expect(got).toEqual([
        "2024-10-27T00:00:00Z",
        "2024-10-27T00:30:00Z",
        "2024-10-27T01:00:00Z",
        "2024-10-27T01:30:00Z",
        "2024-10-27T02:00:00Z",
      ]);
      expect(interval(tt.inferManualDataInterval(d("2024-10-27T01:10:00Z")))).toEqual([
        "2024-10-27T00:30:00Z",
        "2024-10-27T01:00:00Z",
      ]);
    });
  });
});

describe("delta timetable", () => {
  const sixHours = parseSchedule("6h", "UTC");
  const start = d("2024-01-01T00:00:00Z");

  it("anchors intervals at start_date with catchup", () => {
    expect(next(sixHours, null, { earliest: start })).toEqual({
      start: "2024-01-01T00:00:00Z",
      end: "2024-01-01T06:00:00Z",
      runAfter: "2024-01-01T06:00:00Z",
    });
    expect(
      next(sixHours, ["2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z"], { earliest: start }),
    ).toMatchObject({
      start: "2024-01-01T06:00:00Z",
      end: "2024-01-01T12:00:00Z",
    });
    expect(next(parseSchedule("6h", "UTC"), null, { earliest: d("2024-01-01T01:23:00Z") })).toMatchObject({
      start: "2024-01-01T01:23:00Z",
    });
  });

  it("without catchup, schedules the delta ending now", () => {
    const restriction = { earliest: start, catchup: false, now: "2024-01-02T01:00:00Z" };
    expect(next(sixHours, null, restriction)).toEqual({
      start: "2024-01-01T19:00:00Z",
      end: "2024-01-02T01:00:00Z",
      runAfter: "2024-01-02T01:00:00Z",
    });
    expect(next(sixHours, ["2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z"], restriction)).toMatchObject({
      start: "2024-01-01T19:00:00Z",
    });
    expect(next(sixHours, null, { ...restriction, now: "2023-12-01T00:00:00Z" })).toMatchObject({
      start: "2024-01-01T00:00:00Z",
    });
  });

  it("is absolute time across DST", () => {
    const day = parseSchedule("1d", "America/New_York");
    expect(next(day, ["2024-03-09T05:00:00Z", "2024-03-10T05:00:00Z"], {})).toMatchObject({
      start: "2024-03-10T05:00:00Z",
      end: "2024-03-11T05:00:00Z",
    });
  });

  it("stops after end_date and infers manual intervals ending at run_after", () => {
    expect(next(sixHours, ["2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z"], { latest: start })).toBeNull();
    expect(interval(sixHours.inferManualDataInterval(d("2024-01-01T10:00:00Z")))).toEqual([
      "2024-01-01T04:00:00Z",
      "2024-01-01T10:00:00Z",
    ]);
  });
});

describe("@once and None", () => {
  const once = parseSchedule("@once", "UTC");
  const none = parseSchedule(null, "UTC");
  const start = d("2024-01-01T10:00:00Z");

  it("@once runs once at start_date, whatever catchup says", () => {
    for (const catchup of [true, false]) {
      expect(next(once, null, { earliest: start, catchup, now: "2025-01-01T00:00:00Z" })).toEqual({
        start: "2024-01-01T10:00:00Z",
        end: "2024-01-01T10:00:00Z",
        runAfter: "2024-01-01T10:00:00Z",
      });
    }
    expect(next(once, ["2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"], { earliest: start })).toBeNull();
    expect(next(once, null, {})).toBeNull();
    expect(next(once, null, { earliest: start, latest: d("2023-12-31T00:00:00Z") })).toBeNull();
  });

  it("None never schedules", () => {
    expect(next(none, null, { earliest: start, catchup: false })).toBeNull();
    expect(next(none, null, { earliest: start })).toBeNull();
  });

  it("manual runs of both cover the instant they run at", () => {
    expect(interval(once.inferManualDataInterval(start))).toEqual([iso(start), iso(start)]);
    expect(interval(none.inferManualDataInterval(start))).toEqual([iso(start), iso(start)]);
  });
});

describe("dataIntervalsBetween", () => {
  it("lists every logical date in [from, to]", () => {
    const daily = parseSchedule("@daily", "UTC");
    const runs = dataIntervalsBetween(daily, d("2024-01-01T00:00:00Z"), d("2024-01-05T00:00:00Z"));
    expect(runs.map((r) => iso(r.logicalDate))).toEqual([
      "2024-01-01T00:00:00Z",
      "2024-01-02T00:00:00Z",
      "2024-01-03T00:00:00Z",
      "2024-01-04T00:00:00Z",
      "2024-01-05T00:00:00Z",
    ]);
    expect(starts(daily, "2024-01-01T10:00:00Z", "2024-01-03T00:00:00Z")).toEqual([
      ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"],
      ["2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z"],
    ]);
  });

  it("handles @once, None and an empty range", () => {
    const from = d("2024-01-01T00:00:00Z");
    expect(dataIntervalsBetween(parseSchedule("@once"), from, d("2024-02-01T00:00:00Z"))).toHaveLength(1);
    expect(dataIntervalsBetween(parseSchedule(null), from, d("2024-02-01T00:00:00Z"))).toEqual([]);
    expect(dataIntervalsBetween(parseSchedule("@daily"), from, d("2023-12-01T00:00:00Z"))).toEqual([]);
  });

  it("refuses a range with too many runs", () => {
    const minutely = parseSchedule("* * * * *", "UTC");
    expectError(
      () =>
        dataIntervalsBetween(minutely, d("2024-01-01T00:00:00Z"), d("2024-12-31T00:00:00Z"), {
          maxRuns: 500,
        }),
      "TOO_MANY_DAG_RUNS",
      "more than 500 runs",
    );
  });

  it("lists a year of hourly runs, contiguous, through both DST changes", () => {
    const hourly = parseSchedule("15 * * * *", "Europe/Berlin");
    const runs = dataIntervalsBetween(hourly, d("2024-01-01T00:00:00Z"), d("2024-12-31T23:59:00Z"));
    expect(runs).toHaveLength(366 * 24);
    const gaps = runs.filter(
      (r, i) => i > 0 && r.dataInterval.start.getTime() !== runs[i - 1]!.dataInterval.end.getTime(),
    );
    expect(gaps).toEqual([]);
  });
});
