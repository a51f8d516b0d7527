// The Graph's boxes: a task (its state as colour, mark and word; mapped count; setup/teardown
// badge; a link to its panel in the Grid) and a task group (a frame when expanded, one box with
// the group's summary state when collapsed; a button toggles it).
import { Handle, Position, type NodeProps, type Node } from "@xyflow/react";
import { StateMark, stateLook } from "../../components/state";
import { Link } from "../../lib/router";

export interface TaskNodeData extends Record<string, unknown> {
  taskId: string;
  label: string;
  operator: string;
  state: string | null;
  /** Mapped: instance count in the run, or the literal list's length, or null when unknown. */
  mapped: { count: number | null } | null;
  role: "setup" | "teardown" | null;
  href: string | null;
}

export interface GroupNodeData extends Record<string, unknown> {
  groupId: string;
  label: string;
  tooltip: string;
  expanded: boolean;
  taskCount: number;
  state: string | null;
  onToggle: (groupId: string) => void;
}

export type TaskNode = Node<TaskNodeData, "task">;
export type GroupNode = Node<GroupNodeData, "group">;

function Ends() {
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </>
  );
}

export function TaskBox({ data }: NodeProps<TaskNode>) {
  const look = stateLook(data.state);
  const title = `${data.taskId} · ${data.operator} · ${look.label}`;
  const name =
    data.href === null ? (
      <span className="gnode-name">{data.label}</span>
    ) : (
      <Link className="gnode-name" to={data.href} title={`${title} — open in the Grid`}>
        {data.label}
      </Link>
    );
  return (
    <div className="gnode gtask" data-task={data.taskId} data-state={data.state ?? "none"} title={title}>
      <Ends />
      <div className="gnode-top">
        {name}
        {data.mapped && (
          <span className="gbadge" title="mapped task: instances in this run">
            [{data.mapped.count ?? " "}]
          </span>
        )}
      </div>
      <div className="gnode-sub">
        <StateMark state={data.state} />
        <span className="gnode-state">{data.state === null ? "no status" : look.label}</span>
        <span className="gnode-op">{data.operator}</span>
        {data.role && (
          <span className={`gbadge grole ${data.role}`}>
            {data.role === "setup" ? "↗ setup" : "↘ teardown"}
          </span>
        )}
      </div>
    </div>
  );
}

export function GroupBox({ data }: NodeProps<GroupNode>) {
  const look = stateLook(data.state);
  const toggle = (
    <button
      type="button"
      className="gtoggle"
      aria-expanded={data.expanded}
      aria-label={`${data.expanded ? "Collapse" : "Expand"} group ${data.groupId}`}
      onClick={() => data.onToggle(data.groupId)}
    >
      {data.expanded ? "−" : "+"}
    </button>
  );
  if (data.expanded)
    return (
      <div
        className="gframe"
        data-group={data.groupId}
        data-expanded="true"
        title={data.tooltip || data.groupId}
      >
        <div className="gframe-head">
          {toggle}
          <span className="gnode-name">{data.label}</span>
          <span className="muted small">{data.taskCount} tasks</span>
        </div>
      </div>
    );
  return (
    <div
      className="gnode ggroup"
      data-group={data.groupId}
      data-expanded="false"
      data-state={data.state ?? "none"}
      title={data.tooltip || data.groupId}
    >
      <Ends />
      <div className="gnode-top">
        {toggle}
        <span className="gnode-name">{data.label}</span>
        <span className="gbadge">group · {data.taskCount}</span>
      </div>
      <div className="gnode-sub">
        <StateMark state={data.state} />
        <span className="gnode-state">{data.state === null ? "no status" : look.label}</span>
      </div>
    </div>
  );
}
