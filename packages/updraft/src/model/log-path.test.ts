import { resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";
import {
  RUNNER_LOG_FOLDER_ENV,
  localLogPath,
  logPathComponent,
  relocateLogPath,
  taskLogRelativePath,
} from "./log-path.js";

const key = (run_id: string, over: Partial<{ dag_id: string; task_id: string; map_index: number }> = {}) => ({
  dag_id: "etl",
  run_id,
  task_id: "load",
  map_index: -1,
  ...over,
});

/** The inverse of logPathComponent for uncut names: proves no information is lost. */
function decode(component: string): string {
  const units: number[] = [];
  let bytes: number[] = [];
  const flush = () => {
    const text = Buffer.from(bytes).toString("utf8");
    for (let i = 0; i < text.length; i++) units.push(text.charCodeAt(i));
    bytes = [];
  };
  for (let i = 0; i < component.length; ) {
    if (component[i] === "%" && component[i + 1] === "u") {
      flush();
      units.push(parseInt(component.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (component[i] === "%") {
      bytes.push(parseInt(component.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(component.charCodeAt(i));
      i += 1;
    }
  }
  flush();
  return String.fromCharCode(...units);
}

const TRICKY = [
  "x~1",
  "x_1",
  "x%7E1",
  "x%1",
  "x 1",
  "x/1",
  "x\\1",
  "x\u00001",
  ".",
  "..",
  "../..",
  "../../etc/passwd",
  "/",
  "/etc/passwd",
  "é",
  "e\u0301",
  "日本語",
  "🚀",
  "\ud800",
  "\udfff",
  "\ud800\udc00",
  "%u0041",
  "A",
  "a",
];

describe("logPathComponent", () => {
  it("keeps common ids unchanged", () => {
    for (const id of ["etl", "scheduled__2024-01-01T00:00:00+00:00", "manual__x.y_z-1", "A:b+c"]) {
      expect(logPathComponent(id)).toBe(id);
    }
    expect(taskLogRelativePath(key("scheduled__2024-01-01T00:00:00+00:00"), 2)).toBe(
      "dag_id=etl/run_id=scheduled__2024-01-01T00:00:00+00:00/task_id=load/attempt=2.log",
    );
    expect(taskLogRelativePath(key("r", { map_index: 3 }), 1)).toBe(
      "dag_id=etl/run_id=r/task_id=load/map_index=3/attempt=1.log",
    );
  });

  it("gives x~1 and x_1 different folders", () => {
    expect(taskLogRelativePath(key("x~1"), 1)).not.toBe(taskLogRelativePath(key("x_1"), 1));
    expect(logPathComponent("x~1")).toBe("x%7E1");
  });

  it("is injective on tricky ids and can be decoded back", () => {
    const names = TRICKY.map(logPathComponent);
    expect(new Set(names).size).toBe(TRICKY.length);
    for (const [i, id] of TRICKY.entries()) expect(decode(names[i] ?? "")).toBe(id);
  });

  it("escapes %, /, NUL and non-ASCII characters", () => {
    expect(logPathComponent("50%")).toBe("50%25");
    expect(logPathComponent("a/b")).toBe("a%2Fb");
    expect(logPathComponent("a\u0000b")).toBe("a%00b");
    expect(logPathComponent("é")).toBe("%C3%A9");
    expect(logPathComponent("\ud800")).toBe("%uD800");
    for (const id of TRICKY) expect(logPathComponent(id)).toMatch(/^[A-Za-z0-9_.:+%-]+$/);
  });

  it("never leaves the log folder", () => {
    const base = resolve("/var/log/updraft");
    for (const id of TRICKY) {
      for (const ti of [key("r", { dag_id: id }), key(id), key("r", { task_id: id })]) {
        const path = taskLogRelativePath(ti, 1);
        const segments = path.split("/");
        expect(segments).toHaveLength(4);
        for (const s of segments) expect(s === "." || s === "..").toBe(false);
        expect(resolve(base, path).startsWith(base + sep)).toBe(true);
      }
    }
  });

  it("keeps very long ids under the file-name limit and still apart", () => {
    const long = (c: string) => c.repeat(250);
    const ids = [
      long("a"),
      `${long("a").slice(0, 249)}b`,
      long("日"),
      `${long("日").slice(0, 249)}本`,
      long("🚀"),
    ];
    const names = ids.map(logPathComponent);
    expect(new Set(names).size).toBe(ids.length);
    for (const name of names) {
      expect(Buffer.byteLength(`task_id=${name}`)).toBeLessThanOrEqual(255);
      expect(name).toMatch(/^[A-Za-z0-9_.:+%-]*~[0-9a-f]{64}$/);
      // A cut never splits an escape.
      expect(name.split("~")[0]).toMatch(/^(?:[A-Za-z0-9_.:+-]|%[0-9A-F]{2}|%u[0-9A-F]{4})*$/);
    }
    expect(logPathComponent("a".repeat(180))).toBe("a".repeat(180));
  });
});

describe("relocateLogPath", () => {
  it("moves the server's log path under a worker's own folder, keeping the relative part", () => {
    const rel = taskLogRelativePath(key("manual__2026-01-01T00:00:00+00:00", { map_index: 3 }), 2);
    expect(relocateLogPath(`/home/alice/.updraft/logs/${rel}`, "/srv/worker/logs/")).toBe(
      `/srv/worker/logs/${rel}`,
    );
    // Ids that look like the marker are escaped (`=` and `/`), so the cut is at the real component.
    const tricky = taskLogRelativePath(key("x/dag_id=evil", { task_id: "/dag_id=y" }), 1);
    expect(relocateLogPath(`/a/dag_id=in-folder/logs/${tricky}`, "/w")).toBe(`/w/${tricky}`);
    // A DAG-level callback's file beside the run's folders.
    expect(relocateLogPath("/s/logs/dag_id=etl/run_id=r/callback=on_failure.log", "/w")).toBe(
      "/w/dag_id=etl/run_id=r/callback=on_failure.log",
    );
    expect(relocateLogPath("/tmp/not-a-task-log.log", "/w")).toBe("/tmp/not-a-task-log.log");
  });

  it("applies only where the executor set the runner's log folder", () => {
    const path = `/s/logs/${taskLogRelativePath(key("r"), 1)}`;
    expect(localLogPath(path, {})).toBe(path);
    expect(localLogPath(path, { [RUNNER_LOG_FOLDER_ENV]: "/w" })).toBe(
      `/w/${taskLogRelativePath(key("r"), 1)}`,
    );
  });
});
