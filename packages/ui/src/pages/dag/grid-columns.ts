// The Grid's columns: tasks in dependency order, a task group's members side by side where the
// group's first task falls, and a collapsed group as one column that stands for all of them
// (Airflow's grid starts with groups collapsed too).

export interface TaskColumn {
  kind: "task";
  id: string;
  /** The enclosing groups, outermost first. */
  groups: readonly string[];
}
export interface GroupColumn {
  kind: "group";
  id: string;
  /** How many tasks the group holds, nested groups' included. */
  size: number;
  groups: readonly string[];
}
export type GridColumn = TaskColumn | GroupColumn;

/** An expanded group's span over the columns, for its band in the header. */
export interface GroupBand {
  id: string;
  first: number;
  last: number;
  depth: number;
}

interface Node {
  group: string | null;
  children: (string | Node)[];
  size: number;
}

export function gridColumns(
  order: readonly string[],
  taskGroup: ReadonlyMap<string, string | null>,
  parentGroup: ReadonlyMap<string, string | null>,
  expanded: ReadonlySet<string>,
): { columns: GridColumn[]; bands: GroupBand[] } {
  const chainOf = (group: string | null): string[] => {
    const chain: string[] = [];
    for (let g = group; g !== null && !chain.includes(g); g = parentGroup.get(g) ?? null) chain.unshift(g);
    return chain;
  };
  // The group tree, each child placed where its first task comes in `order`.
  const root: Node = { group: null, children: [], size: 0 };
  const nodes = new Map<string, Node>();
  for (const task of order) {
    let at = root;
    at.size++;
    for (const g of chainOf(taskGroup.get(task) ?? null)) {
      let node = nodes.get(g);
      if (node === undefined) {
        node = { group: g, children: [], size: 0 };
        nodes.set(g, node);
        at.children.push(node);
      }
      node.size++;
      at = node;
    }
    at.children.push(task);
  }
  const columns: GridColumn[] = [];
  const bands: GroupBand[] = [];
  const walk = (node: Node, path: string[]) => {
    for (const child of node.children) {
      if (typeof child === "string") {
        columns.push({ kind: "task", id: child, groups: path });
        continue;
      }
      const id = child.group ?? "";
      if (!expanded.has(id)) {
        columns.push({ kind: "group", id, size: child.size, groups: path });
        continue;
      }
      const first = columns.length;
      walk(child, [...path, id]);
      bands.push({ id, first, last: columns.length - 1, depth: path.length });
    }
  };
  walk(root, []);
  return { columns, bands };
}
