// The DAG page's Graph tab: the tasks laid out left to right (ELK), task groups that collapse to
// one box, the selected run's states (colour, mark and word), setup→teardown edges dashed and
// labelled, mapped tasks with their count. A task's name opens its panel in the Grid.
import {
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type Node,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useCallback, useEffect, useMemo, useState } from "react";
import { stateLook } from "../../components/state";
import { navigate, useLocation } from "../../lib/router";
import "./graph.css";
import { useDagDetails, useRunStates, type TaskRunState } from "./graph-data";
import { layout, type Placed } from "./graph-layout";
import {
  groupsOf,
  summaryState,
  tasksInGroup,
  tasksOf,
  visibleGraph,
  type GraphGroup,
  type GraphTask,
} from "./graph-model";
import { SetupTeardownLine } from "./graph-edges";
import { GroupBox, TaskBox, type GroupNodeData, type TaskNodeData } from "./graph-nodes";

// "taskGroup", not "group": React Flow styles its own "group" type with a frame of its own.
const NODE_TYPES = { task: TaskBox, taskGroup: GroupBox };
const EDGE_TYPES = { setupTeardown: SetupTeardownLine };

export function GraphTab({ dagId }: { dagId: string }) {
  const details = useDagDetails(dagId);
  const { search } = useLocation();
  const runs = useRunStates(dagId, search.get("run"));
  const tasks = useMemo(() => tasksOf(details.data?.tasks ?? []), [details.data]);
  const groups = useMemo(() => groupsOf(details.data?.task_groups ?? []), [details.data]);
  const pick = (runId: string) => {
    const next = new URLSearchParams(search);
    next.set("run", runId);
    navigate(`/dags/${encodeURIComponent(dagId)}/graph?${next.toString()}`, { replace: true });
  };
  if (details.isError) return <p className="error">{details.error.message}</p>;
  return (
    <div className="graph-tab">
      <div className="graph-bar">
        <label>
          Run{" "}
          <select
            value={runs.selected ?? ""}
            onChange={(e) => pick(e.target.value)}
            disabled={runs.runs.length === 0}
            aria-label="Run shown in the graph"
          >
            {runs.runs.length === 0 && <option value="">no runs yet</option>}
            {runs.selected !== null && !runs.runs.some((r) => r.dag_run_id === runs.selected) && (
              <option value={runs.selected}>{runs.selected}</option>
            )}
            {runs.runs.map((r) => (
              <option key={r.dag_run_id} value={r.dag_run_id}>
                {stateLook(r.state).symbol} {r.dag_run_id}
              </option>
            ))}
          </select>
        </label>
        {runs.runState !== null && (
          <span className={`badge state-${runs.runState}`}>
            <span aria-hidden="true">{stateLook(runs.runState).symbol}</span> run{" "}
            {stateLook(runs.runState).label}
          </span>
        )}
        <span className="muted small">
          {tasks.length} tasks
          {groups.length > 0 ? ` · ${groups.length} group${groups.length === 1 ? "" : "s"}` : ""} · click a
          task to open it in the Grid
        </span>
        <span className="spacer" />
        <span className="graph-legend muted small">
          <span className="legend-st" aria-hidden="true" /> setup → teardown
        </span>
      </div>
      {runs.error && <p className="error">{runs.error.message}</p>}
      {details.isPending ? (
        <p className="muted">Loading the graph…</p>
      ) : tasks.length === 0 ? (
        <p className="muted">This DAG has no tasks.</p>
      ) : (
        <ReactFlowProvider>
          <GraphCanvas
            dagId={dagId}
            tasks={tasks}
            groups={groups}
            states={runs.states}
            runId={runs.selected}
          />
        </ReactFlowProvider>
      )}
    </div>
  );
}

function GraphCanvas(props: {
  dagId: string;
  tasks: GraphTask[];
  groups: GraphGroup[];
  states: ReadonlyMap<string, TaskRunState>;
  runId: string | null;
}) {
  const { dagId, tasks, groups, states, runId } = props;
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback(
    (groupId: string) =>
      setCollapsed((c) => {
        const next = new Set(c);
        if (next.has(groupId)) next.delete(groupId);
        else next.add(groupId);
        return next;
      }),
    [],
  );
  const visible = useMemo(() => visibleGraph(tasks, groups, collapsed), [tasks, groups, collapsed]);
  const [placed, setPlaced] = useState<{ of: typeof visible; at: Map<string, Placed> } | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    layout(visible.nodes, visible.edges).then(
      (at) => live && setPlaced({ of: visible, at }),
      (e: unknown) => live && setLayoutError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [visible]);

  const byId = useMemo(() => new Map(tasks.map((t) => [t.task_id, t])), [tasks]);
  const nodes = useMemo((): Node[] => {
    if (placed === null) return [];
    const { of, at } = placed;
    return of.nodes.map((n): Node => {
      const p = at.get(n.id) ?? { x: 0, y: 0, width: 220, height: 64 };
      const common = {
        id: n.id,
        position: { x: p.x, y: p.y },
        ...(n.parent === null ? {} : { parentId: n.parent, extent: "parent" as const }),
        width: p.width,
        height: p.height,
        draggable: false,
        selectable: false,
      };
      if (n.kind === "group") {
        const inside = tasksInGroup(tasks, groups, n.ref);
        const counts: Record<string, number> = {};
        for (const t of inside) {
          const k = states.get(t.task_id)?.state ?? "none";
          counts[k] = (counts[k] ?? 0) + 1;
        }
        const parentId = groups.find((g) => g.group_id === n.ref)?.parent_group_id ?? null;
        const data: GroupNodeData = {
          groupId: n.ref,
          label: shortName(n.ref, parentId),
          tooltip: groups.find((g) => g.group_id === n.ref)?.tooltip ?? "",
          expanded: n.expanded,
          taskCount: inside.length,
          state: states.size === 0 ? null : summaryState(counts),
          onToggle: toggle,
        };
        return { ...common, type: "taskGroup", data, zIndex: n.expanded ? -1 : 0 };
      }
      const t = byId.get(n.ref);
      const s = states.get(n.ref);
      const data: TaskNodeData = {
        taskId: n.ref,
        label: shortName(n.ref, t?.task_group_id ?? null),
        operator: t?.operator ?? "",
        state: s?.state ?? null,
        mapped: t?.mapped ? { count: s && s.mapCount > 0 ? s.mapCount : t.mapped.literal } : null,
        role: t?.is_setup ? "setup" : t?.is_teardown ? "teardown" : null,
        href:
          runId === null
            ? `/dags/${encodeURIComponent(dagId)}/grid?task=${encodeURIComponent(n.ref)}`
            : `/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(runId)}&task=${encodeURIComponent(n.ref)}`,
      };
      return { ...common, type: "task", data };
    });
  }, [placed, tasks, groups, states, byId, toggle, dagId, runId]);

  const edges = useMemo((): Edge[] => {
    // The y under the lowest top-level box: setup→teardown loops run there.
    let below = 0;
    if (placed !== null)
      for (const n of placed.of.nodes) {
        const p = placed.at.get(n.id);
        if (n.parent === null && p) below = Math.max(below, p.y + p.height);
      }
    return (placed?.of.edges ?? []).map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      className: e.setupTeardown ? "gedge setup-teardown" : "gedge",
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      ...(e.setupTeardown
        ? {
            type: "setupTeardown",
            label: "setup → teardown",
            style: { strokeDasharray: "6 4" },
            data: { below },
          }
        : e.count > 1
          ? { label: `×${e.count}` }
          : {}),
      focusable: false,
    }));
  }, [placed]);

  if (layoutError !== null) return <p className="error">The graph could not be laid out: {layoutError}</p>;
  return (
    <div className="graph-canvas" data-laid-out={placed === null ? "false" : "true"}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        edgeTypes={EDGE_TYPES}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        minZoom={0.1}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
        // A click anywhere on a task's box opens it in the Grid (the name is also a link, for the
        // keyboard and for opening in a new tab; its own click has already navigated then).
        onNodeClick={(e, node) => {
          const href = (node.data as Partial<TaskNodeData>).href;
          if (!e.defaultPrevented && typeof href === "string") navigate(href);
        }}
      >
        <FitOnLayout placed={placed} />
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

/** Fits the whole graph on screen after each layout (first show, collapse, expand). */
function FitOnLayout({ placed }: { placed: unknown }) {
  const flow = useReactFlow();
  useEffect(() => {
    if (placed === null) return;
    const id = requestAnimationFrame(() => void flow.fitView({ padding: 0.12, maxZoom: 1.1 }));
    return () => cancelAnimationFrame(id);
  }, [placed, flow]);
  return null;
}

/** A task or group's name inside its group, without the group's prefix. */
function shortName(id: string, groupId: string | null): string {
  return groupId !== null && id.startsWith(`${groupId}.`) ? id.slice(groupId.length + 1) : id;
}
