// One uPlot line chart over the charted runs (x = the run's position, labelled with its date),
// coloured from the theme when drawn and redrawn when the theme or the width changes. Beside the
// canvas, a visually hidden table of the same numbers: screen readers read it, tests check it.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { cssVar, SERIES_COLORS, SERIES_DASHES, useThemeVersion } from "./chart-theme";

export interface ChartSeries {
  label: string;
  /** One value per run (already in the axis unit), null where there is none. */
  values: (number | null)[];
  /** A CSS variable (e.g. "--s-failed") or colour; default: the palette by position. */
  color?: string;
  /** Points only, no line (e.g. failed runs among successful ones). */
  pointsOnly?: boolean;
}

export interface ChartProps {
  id: string;
  title: string;
  /** The y axis' label with its unit, e.g. "Duration (minutes)". */
  yLabel: string;
  xLabel: string;
  /** One label per run, for the x axis and the tooltip legend. */
  xLabels: string[];
  series: ChartSeries[];
  /** How a value reads in the legend and the table, e.g. "3m 05s". */
  format: (v: number) => string;
  /** Integer-only y axis (tries). */
  integer?: boolean;
}

const HEIGHT = 230;

export function UChart(props: ChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const theme = useThemeVersion();
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = holder.current;
    if (el === null) return;
    const observer = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    observer.observe(el);
    setWidth(Math.floor(el.clientWidth));
    return () => observer.disconnect();
  }, []);
  const { xLabels, series, format, integer, xLabel, yLabel } = props;
  useEffect(() => {
    const el = holder.current;
    if (el === null || width === 0) return;
    const text = cssVar("--text");
    const muted = cssVar("--muted");
    const grid = cssVar("--border");
    const colorOf = (s: ChartSeries, i: number) =>
      s.color === undefined
        ? (SERIES_COLORS[i % SERIES_COLORS.length] ?? text)
        : s.color.startsWith("--")
          ? cssVar(s.color)
          : s.color;
    const axis = {
      stroke: muted,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: "11px system-ui, sans-serif",
      labelFont: "12px system-ui, sans-serif",
    };
    const opts: uPlot.Options = {
      width,
      height: HEIGHT,
      scales: {
        // Half a run of room on each side: one run is a point in the middle, not on the edge.
        x: { time: false, range: () => [-0.5, Math.max(0.5, xLabels.length - 0.5)] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
      },
      axes: [
        {
          ...axis,
          label: xLabel,
          labelSize: 18,
          space: 90,
          incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500],
          values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? (xLabels[v] ?? "") : "")),
        },
        {
          ...axis,
          label: yLabel,
          labelSize: 18,
          size: 56,
          ...(integer === true ? { incrs: [1, 2, 5, 10, 20, 50] } : {}),
          values: (_u, splits) => tickTexts(splits, integer === true),
        },
      ],
      series: [
        { label: xLabel, value: (_u, v) => (v === null ? "—" : (xLabels[v] ?? "")) },
        ...series.map((s, i) => {
          const stroke = colorOf(s, i);
          return {
            label: s.label,
            stroke,
            width: s.pointsOnly === true ? 0 : 2,
            dash: SERIES_DASHES[i % SERIES_DASHES.length] ?? [],
            spanGaps: true,
            points: {
              show: true,
              size: s.pointsOnly === true ? 9 : 6,
              stroke,
              fill: s.pointsOnly === true ? stroke : cssVar("--surface"),
            },
            ...(s.pointsOnly === true ? { paths: () => null } : {}),
            value: (_u: uPlot, v: number | null) => (v === null ? "—" : format(v)),
          } satisfies uPlot.Series;
        }),
      ],
      legend: { show: true, live: true },
      cursor: { points: { size: 7 } },
    };
    const data: uPlot.AlignedData = [xLabels.map((_, i) => i), ...series.map((s) => s.values)];
    const chart = new uPlot(opts, data, el);
    chart.root.style.color = text;
    return () => chart.destroy();
  }, [width, theme, xLabels, series, format, integer, xLabel, yLabel]);
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  return (
    <figure className="chart-panel duration-chart" data-chart={props.id} data-points={points}>
      <figcaption>
        <h3>{props.title}</h3>
      </figcaption>
      {points === 0 && <p className="muted small">No values yet for these runs.</p>}
      <div ref={holder} className="duration-canvas" aria-hidden="true" />
      <table className="chart-sr-only" data-chart={props.id}>
        <caption>
          {props.title}: {yLabel} per run
        </caption>
        <thead>
          <tr>
            <th scope="col">{xLabel}</th>
            {series.map((s) => (
              <th key={s.label} scope="col">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {xLabels.map((x, i) => (
            <tr key={i}>
              <th scope="row">{x}</th>
              {series.map((s) => {
                const v = s.values[i];
                return (
                  <td key={s.label} data-value={v ?? ""}>
                    {v === null || v === undefined ? "—" : format(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** Tick labels with as many decimals as the step between ticks needs (0.025 → 3). */
function tickTexts(splits: number[], integer: boolean): string[] {
  const step = splits.length > 1 ? Math.abs((splits[1] ?? 0) - (splits[0] ?? 0)) : 1;
  if (integer || step >= 1) return splits.map((v) => (Number.isInteger(v) ? String(v) : ""));
  const magnitude = Math.floor(Math.log10(step));
  const exact = Number.isInteger(Math.round((step / 10 ** magnitude) * 1e6) / 1e6);
  const decimals = Math.min(6, -magnitude + (exact ? 0 : 1));
  return splits.map((v) => v.toFixed(decimals));
}
