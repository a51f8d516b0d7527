import { describe, expect, it } from "vitest";
import { gridColumns } from "./grid-columns";

// a → g.b → g.h.c → d, with g.e beside (g holds b, e and the nested g.h; g.h holds c).
const order = ["a", "g.b", "g.h.c", "g.e", "d"];
const taskGroup = new Map<string, string | null>([
  ["a", null],
  ["g.b", "g"],
  ["g.h.c", "g.h"],
  ["g.e", "g"],
  ["d", null],
]);
const parentGroup = new Map<string, string | null>([
  ["g", null],
  ["g.h", "g"],
]);
const ids = (expanded: string[]) =>
  gridColumns(order, taskGroup, parentGroup, new Set(expanded)).columns.map((c) => `${c.kind}:${c.id}`);

describe("gridColumns", () => {
  it("shows a collapsed group as one column where its first task falls, with its size", () => {
    const { columns, bands } = gridColumns(order, taskGroup, parentGroup, new Set());
    expect(columns.map((c) => `${c.kind}:${c.id}`)).toEqual(["task:a", "group:g", "task:d"]);
    expect(columns[1]).toMatchObject({ size: 3 });
    expect(bands).toEqual([]);
  });

  it("expands a group into its members side by side, nested groups collapsed until opened", () => {
    expect(ids(["g"])).toEqual(["task:a", "task:g.b", "group:g.h", "task:g.e", "task:d"]);
    const { columns, bands } = gridColumns(order, taskGroup, parentGroup, new Set(["g", "g.h"]));
    expect(columns.map((c) => c.id)).toEqual(order);
    expect(columns.find((c) => c.id === "g.h.c")?.groups).toEqual(["g", "g.h"]);
    expect(bands).toEqual(
      expect.arrayContaining([
        { id: "g", first: 1, last: 3, depth: 0 },
        { id: "g.h", first: 2, last: 2, depth: 1 },
      ]),
    );
  });

  it("keeps a DAG without groups in task order", () => {
    const flat = new Map(order.map((t) => [t, null]));
    expect(gridColumns(order, flat, new Map(), new Set()).columns.map((c) => c.id)).toEqual(order);
  });
});
