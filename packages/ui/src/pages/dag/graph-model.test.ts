// The Graph's model without a browser: which boxes and arrows a collapse leaves on screen.
import { describe, expect, test } from "vitest";
import { groupsOf, tasksOf, visibleGraph } from "./graph-model";

const task = (task_id: string, downstream: string[], more: Record<string, unknown> = {}) => ({
  task_id,
  operator: "EmptyOperator",
  task_group_id: null,
  downstream_task_ids: downstream,
  is_setup: false,
  is_teardown: false,
  expand: null,
  ...more,
});

// setup → start → etl.extract → etl.load.a / etl.load.b → end → teardown, setup → teardown
const tasks = tasksOf([
  task("setup", ["start", "teardown"], { is_setup: true }),
  task("start", ["etl.extract"]),
  task("etl.extract", ["etl.load.a", "etl.load.b"], { task_group_id: "etl" }),
  task("etl.load.a", ["end"], { task_group_id: "etl.load", expand: { x: [1, 2, 3] } }),
  task("etl.load.b", ["end"], { task_group_id: "etl.load" }),
  task("end", ["teardown"]),
  task("teardown", [], { is_teardown: true }),
]);
const groups = groupsOf([
  { group_id: "etl", parent_group_id: null, tooltip: "" },
  { group_id: "etl.load", parent_group_id: "etl", tooltip: "" },
]);
const ids = (g: ReturnType<typeof visibleGraph>) => ({
  nodes: g.nodes.map((n) => `${n.id}${n.parent ? ` in ${n.parent}` : ""}`),
  edges: g.edges.map(
    (e) => `${e.source}>${e.target}${e.setupTeardown ? " st" : ""}${e.count > 1 ? ` x${e.count}` : ""}`,
  ),
});

describe("visibleGraph", () => {
  test("all expanded: frames before their children, every task edge, setup→teardown marked", () => {
    const g = ids(visibleGraph(tasks, groups, new Set()));
    expect(g.nodes).toEqual([
      "t:setup",
      "t:start",
      "g:etl",
      "t:etl.extract in g:etl",
      "g:etl.load in g:etl",
      "t:etl.load.a in g:etl.load",
      "t:etl.load.b in g:etl.load",
      "t:end",
      "t:teardown",
    ]);
    expect(g.edges).toContain("t:setup>t:teardown st");
    expect(g.edges).toContain("t:end>t:teardown");
    expect(g.edges).toHaveLength(8);
  });

  test("a collapsed inner group is one box; edges into and out of it are merged and counted", () => {
    const g = ids(visibleGraph(tasks, groups, new Set(["etl.load"])));
    expect(g.nodes).toContain("g:etl.load in g:etl");
    expect(g.nodes).not.toContain("t:etl.load.a in g:etl.load");
    expect(g.edges).toContain("t:etl.extract>g:etl.load x2");
    expect(g.edges).toContain("g:etl.load>t:end x2");
  });

  test("a collapsed outer group hides its nested group and drops the edges inside it", () => {
    const g = ids(visibleGraph(tasks, groups, new Set(["etl"])));
    expect(g.nodes).toEqual(["t:setup", "t:start", "g:etl", "t:end", "t:teardown"]);
    expect(g.edges).toEqual([
      "t:setup>t:start",
      "t:setup>t:teardown st",
      "t:start>g:etl",
      "g:etl>t:end x2",
      "t:end>t:teardown",
    ]);
  });

  test("a literal expand list gives the mapped count before any run", () => {
    expect(tasks.find((t) => t.task_id === "etl.load.a")?.mapped).toEqual({ literal: 3 });
    expect(tasks.find((t) => t.task_id === "end")?.mapped).toBeNull();
  });
});
