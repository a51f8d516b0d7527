// The Graph's model: which boxes and arrows are on screen for the DAG's tasks and task groups,
// given which groups the user collapsed. A collapsed group is one box, and every edge into or out
// of its tasks is drawn to that box (edges inside it disappear); an expanded group is a frame
// around its children. Pure functions, so the layout (graph-layout.ts) and the tests share them.

/** A task as the DAG's details give it (the serialized task, snake_case). */
export interface GraphTask {
  task_id: string;
  operator: string;
  task_group_id: string | null;
  downstream_task_ids: string[];
  is_setup: boolean;
  is_teardown: boolean;
  /** Mapped: how many instances a literal list gives (null when only known at run time). */
  mapped: { literal: number | null } | null;
}

export interface GraphGroup {
  group_id: string;
  parent_group_id: string | null;
  tooltip: string;
}

export interface VisibleNode {
  /** "t:<task_id>" or "g:<group_id>": tasks and groups may share a name. */
  id: string;
  kind: "task" | "group";
  /** The task or group id. */
  ref: string;
  /** The frame (an expanded group's node id) this node sits in, or null at the top. */
  parent: string | null;
  /** For groups: expanded (a frame) or collapsed (one box). */
  expanded: boolean;
}

export interface VisibleEdge {
  id: string;
  source: string;
  target: string;
  /** Every task edge this arrow stands for goes from a setup to a teardown task. */
  setupTeardown: boolean;
  /** How many task edges this arrow stands for (more than one when it ends at a collapsed group). */
  count: number;
}

const str = (v: unknown): string => (typeof v === "string" ? v : String(v));

/** Reads the serialized tasks of GET /dags/{dag_id}/details defensively (the schema types them loosely). */
export function tasksOf(raw: readonly Record<string, unknown>[]): GraphTask[] {
  return raw.map((t) => {
    const expand = t["expand"];
    let mapped: GraphTask["mapped"] = null;
    if (expand !== null && expand !== undefined && typeof expand === "object") {
      const lists = Object.values(expand as Record<string, unknown>);
      const literal = lists.length > 0 && lists.every(Array.isArray) ? (lists[0] as unknown[]).length : null;
      mapped = { literal };
    }
    return {
      task_id: str(t["task_id"]),
      operator: typeof t["operator"] === "string" ? t["operator"] : "",
      task_group_id: typeof t["task_group_id"] === "string" ? t["task_group_id"] : null,
      downstream_task_ids: Array.isArray(t["downstream_task_ids"]) ? t["downstream_task_ids"].map(str) : [],
      is_setup: t["is_setup"] === true,
      is_teardown: t["is_teardown"] === true,
      mapped,
    };
  });
}

export function groupsOf(raw: readonly Record<string, unknown>[]): GraphGroup[] {
  return raw.map((g) => ({
    group_id: str(g["group_id"]),
    parent_group_id: typeof g["parent_group_id"] === "string" ? g["parent_group_id"] : null,
    tooltip: typeof g["tooltip"] === "string" ? g["tooltip"] : "",
  }));
}

/** A group's enclosing groups, outermost first, ending with the group itself. */
function chainOf(groupId: string | null, parents: ReadonlyMap<string, string | null>): string[] {
  const chain: string[] = [];
  const seen = new Set<string>();
  for (let g = groupId; g !== null && !seen.has(g); g = parents.get(g) ?? null) {
    seen.add(g);
    chain.unshift(g);
  }
  return chain;
}

/** The boxes and arrows on screen, parents before children (as React Flow wants them). */
export function visibleGraph(
  tasks: readonly GraphTask[],
  groups: readonly GraphGroup[],
  collapsed: ReadonlySet<string>,
): { nodes: VisibleNode[]; edges: VisibleEdge[] } {
  const parents = new Map(groups.map((g) => [g.group_id, g.parent_group_id]));
  const nodes = new Map<string, VisibleNode>();
  // The node a task is drawn as: its outermost collapsed group, else itself.
  const shownAs = new Map<string, string>();
  const addGroup = (groupId: string, parent: string | null, expanded: boolean) => {
    const id = `g:${groupId}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind: "group", ref: groupId, parent, expanded });
    return id;
  };
  for (const t of tasks) {
    let parent: string | null = null;
    let rep: string | null = null;
    for (const g of chainOf(t.task_group_id, parents)) {
      if (collapsed.has(g)) {
        rep = addGroup(g, parent, false);
        break;
      }
      parent = addGroup(g, parent, true);
    }
    if (rep === null) {
      rep = `t:${t.task_id}`;
      nodes.set(rep, { id: rep, kind: "task", ref: t.task_id, parent, expanded: false });
    }
    shownAs.set(t.task_id, rep);
  }
  const setupOf = new Map(tasks.map((t) => [t.task_id, t]));
  const edges = new Map<string, VisibleEdge>();
  for (const t of tasks) {
    for (const d of t.downstream_task_ids) {
      const source = shownAs.get(t.task_id);
      const target = shownAs.get(d);
      if (source === undefined || target === undefined || source === target) continue;
      const st = t.is_setup && setupOf.get(d)?.is_teardown === true;
      const id = `${source}->${target}`;
      const e = edges.get(id);
      if (e === undefined) edges.set(id, { id, source, target, setupTeardown: st, count: 1 });
      else edges.set(id, { ...e, setupTeardown: e.setupTeardown && st, count: e.count + 1 });
    }
  }
  // Parents first: a frame's node before the nodes inside it.
  const ordered: VisibleNode[] = [];
  const placed = new Set<string>();
  const place = (n: VisibleNode) => {
    if (placed.has(n.id)) return;
    if (n.parent !== null) {
      const p = nodes.get(n.parent);
      if (p) place(p);
    }
    placed.add(n.id);
    ordered.push(n);
  };
  for (const n of nodes.values()) place(n);
  return { nodes: ordered, edges: [...edges.values()] };
}

/** The tasks inside a group, nested groups' too. */
export function tasksInGroup(
  tasks: readonly GraphTask[],
  groups: readonly GraphGroup[],
  groupId: string,
): GraphTask[] {
  const parents = new Map(groups.map((g) => [g.group_id, g.parent_group_id]));
  return tasks.filter((t) => chainOf(t.task_group_id, parents).includes(groupId));
}

// The order in which one state stands for many (as the server's model/summary-state.ts: a
// failure shows before a success, work in progress before work done).
const PRIORITY: readonly (string | null)[] = [
  "failed",
  "upstream_failed",
  "up_for_retry",
  "up_for_reschedule",
  "queued",
  "scheduled",
  "deferred",
  "running",
  "restarting",
  null,
  "success",
  "skipped",
  "removed",
];

/** The state that stands for several, given counts per state (`none` for no state yet). */
export function summaryState(counts: Readonly<Record<string, number>>): string | null {
  for (const state of PRIORITY) if ((counts[state ?? "none"] ?? 0) > 0) return state;
  return null;
}
