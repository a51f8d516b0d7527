// The Graph's setup→teardown edge: dashed, labelled, and drawn as a loop under the tasks it spans
// (a straight line would run behind every box between the setup and its teardown and hide its
// label). `data.below` is the y just under the lowest box, from the layout.
import { BaseEdge, type Edge, type EdgeProps } from "@xyflow/react";

export type SetupTeardownEdge = Edge<{ below: number }, "setupTeardown">;

export function SetupTeardownLine(props: EdgeProps<SetupTeardownEdge>) {
  const { sourceX: sx, sourceY: sy, targetX: tx, targetY: ty, data, markerEnd, label, style } = props;
  const y = Math.max(data?.below ?? sy, sy, ty) + 28;
  const bend = 36;
  const path = [
    `M ${sx} ${sy}`,
    `C ${sx + bend} ${sy}, ${sx + bend} ${y}, ${sx + bend * 2} ${y}`,
    `L ${tx - bend * 2} ${y}`,
    `C ${tx - bend} ${y}, ${tx - bend} ${ty}, ${tx} ${ty}`,
  ].join(" ");
  return (
    <BaseEdge
      id={props.id}
      path={path}
      {...(markerEnd === undefined ? {} : { markerEnd })}
      {...(style === undefined ? {} : { style })}
      label={label}
      labelX={(sx + tx) / 2}
      labelY={y}
      labelBgPadding={[6, 3]}
      labelBgBorderRadius={4}
    />
  );
}
