// Lays the Graph out left to right with ELK's layered algorithm. elk.bundled.js runs on the main
// thread (it needs no eval, so the CSP allows it; a DAG of a few hundred tasks lays out in well
// under a second) and is loaded only when a Graph is first shown: it is 1.6 MB.
import type { ElkNode } from "elkjs/lib/elk-api";
import type { VisibleEdge, VisibleNode } from "./graph-model";

export const TASK_W = 220;
export const TASK_H = 64;
/** Room above an expanded group's children for its header. */
const GROUP_HEAD = 40;

export interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
}

type Elk = { layout(graph: ElkNode): Promise<ElkNode> };
let elk: Promise<Elk> | null = null;
function loadElk(): Promise<Elk> {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default());
  return elk;
}

const ROOT_OPTIONS = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  // Edges between tasks in different groups are laid out as one graph, so frames do not overlap.
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "70",
  "elk.spacing.nodeNode": "28",
  "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
};

/** Each node's position (relative to its frame, as React Flow wants) and size. */
export async function layout(
  nodes: readonly VisibleNode[],
  edges: readonly VisibleEdge[],
): Promise<Map<string, Placed>> {
  const elkNodes = new Map<string, ElkNode>();
  const root: ElkNode = { id: "root", layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  for (const n of nodes) {
    const frame = n.kind === "group" && n.expanded;
    const e: ElkNode = frame
      ? {
          id: n.id,
          children: [],
          layoutOptions: { "elk.padding": `[top=${GROUP_HEAD},left=16,bottom=16,right=16]` },
        }
      : { id: n.id, width: TASK_W, height: TASK_H };
    elkNodes.set(n.id, e);
    const parent = n.parent === null ? root : (elkNodes.get(n.parent) ?? root);
    parent.children?.push(e);
  }
  root.edges = edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] }));
  const done = await (await loadElk()).layout(root);
  const out = new Map<string, Placed>();
  const walk = (n: ElkNode) => {
    for (const c of n.children ?? []) {
      out.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? TASK_W, height: c.height ?? TASK_H });
      walk(c);
    }
  };
  walk(done);
  return out;
}
