// The Durations tab: four uPlot charts over a DAG's last N runs (GET /api/v1/ui/durations, one call):
// how long each run took, how long the chosen tasks ran, when they landed after the end of the
// run's data interval, and how many tries they took. Axes carry their units; colours follow the
// theme; each chart has a hidden table of its numbers. Polled while the newest run is unfinished.
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import type { components } from "updraft/client";
import { api, unwrap } from "../../lib/api";
import { navigate, useLocation } from "../../lib/router";
import { durationUnit, formatSeconds } from "./chart-format";
import { UChart, type ChartSeries } from "./chart-uplot";
import { taskOrder } from "./grid-data";
import "./chart.css";
import "./durations.css";

type Durations = components["schemas"]["DurationsData"];
const RUN_COUNTS = [25, 50, 100, 250, 500, 1000];
const DEFAULT_TASKS = 6;

export function DurationsTab({ dagId }: { dagId: string }) {
  const { pathname, search } = useLocation();
  const asked = Number(search.get("runs"));
  const limit = RUN_COUNTS.includes(asked) ? asked : 100;
  const details = useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
  const durations = useQuery({
    queryKey: ["dag", dagId, "durations", limit],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/ui/durations/{dag_id}", { params: { path: { dag_id: dagId }, query: { limit } } }),
      ),
    refetchInterval: (q) => {
      const last = q.state.data?.dag_runs.at(-1);
      return last !== undefined && (last.state === "running" || last.state === "queued") ? 3_000 : 30_000;
    },
  });
  const order = useMemo(() => {
    const known = details.data ? taskOrder(details.data.tasks) : [];
    const extra = (durations.data?.tasks ?? []).map((t) => t.task_id).filter((t) => !known.includes(t));
    return [...known, ...extra];
  }, [details.data, durations.data]);
  const [picked, setPicked] = useState<string[] | null>(null);
  const chosen = picked ?? order.slice(0, DEFAULT_TASKS);
  const setLimit = (n: number) => {
    const next = new URLSearchParams(search);
    next.set("runs", String(n));
    navigate(`${pathname}?${next.toString()}`, { replace: true });
  };
  const toggle = (task: string) =>
    setPicked((p) => {
      const now = p ?? chosen;
      return now.includes(task)
        ? now.filter((t) => t !== task)
        : order.filter((t) => t === task || now.includes(t));
    });

  if (durations.error) return <p className="error">{durations.error.message}</p>;
  const data = durations.data;
  return (
    <div className="durations">
      <div className="chart-toolbar">
        <label>
          Last{" "}
          <select value={limit} onChange={(e) => setLimit(Number(e.target.value))} aria-label="How many runs">
            {RUN_COUNTS.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>{" "}
          runs
        </label>
        {data && (
          <span className="muted small">
            {data.dag_runs.length} of {data.total_entries} run{data.total_entries === 1 ? "" : "s"}, oldest
            left
          </span>
        )}
      </div>
      {order.length > 0 && (
        <fieldset className="duration-tasks">
          <legend>Tasks in the task charts</legend>
          {order.map((t) => (
            <label key={t} className="duration-task">
              <input type="checkbox" checked={chosen.includes(t)} onChange={() => toggle(t)} /> {t}
            </label>
          ))}
          <button type="button" className="ghost small" onClick={() => setPicked(order)}>
            all
          </button>
          <button type="button" className="ghost small" onClick={() => setPicked([])}>
            none
          </button>
        </fieldset>
      )}
      {!data ? (
        <p className="muted">Loading the durations…</p>
      ) : data.dag_runs.length === 0 ? (
        <div className="empty">
          <p>No runs yet. Trigger one to chart its durations.</p>
        </div>
      ) : (
        <Charts data={data} tasks={chosen} />
      )}
    </div>
  );
}

function Charts({ data, tasks }: { data: Durations; tasks: string[] }) {
  const charts = useMemo(() => {
    // Runs within one minute (manual triggers, tests) would share a label: then show seconds too.
    const label = (seconds: boolean) =>
      data.dag_runs.map((r) => shortDate(r.logical_date ?? r.start_date, seconds) ?? r.dag_run_id);
    const minutes = label(false);
    const xLabels = new Set(minutes).size === minutes.length ? minutes : label(true);
    const byTask = new Map(data.tasks.map((t) => [t.task_id, t]));
    const picked = tasks.flatMap((t) => {
      const row = byTask.get(t);
      return row === undefined ? [] : [row];
    });
    const maxOf = (arrays: (number | null)[][]) =>
      Math.max(0, ...arrays.flatMap((a) => a.filter((v): v is number => v !== null).map(Math.abs)));
    const runDurations = data.dag_runs.map((r) => r.duration);
    const runUnit = durationUnit(maxOf([runDurations]));
    const taskUnit = durationUnit(maxOf(picked.map((t) => t.duration)));
    const landUnit = durationUnit(maxOf(picked.map((t) => t.landing)));
    const scale = (values: (number | null)[], size: number) =>
      values.map((v) => (v === null ? null : v / size));
    const failed = new Set(["failed"]);
    const runSeries: ChartSeries[] = [
      {
        label: "Run duration",
        values: scale(
          runDurations.map((v, i) => (failed.has(data.dag_runs[i]?.state ?? "") ? null : v)),
          runUnit.size,
        ),
        color: "--s-success",
      },
      {
        label: "Failed run",
        values: scale(
          runDurations.map((v, i) => (failed.has(data.dag_runs[i]?.state ?? "") ? v : null)),
          runUnit.size,
        ),
        color: "--s-failed",
        pointsOnly: true,
      },
    ];
    return {
      xLabels,
      run: { series: runSeries, unit: runUnit },
      task: {
        series: picked.map((t) => ({ label: t.task_id, values: scale(t.duration, taskUnit.size) })),
        unit: taskUnit,
      },
      landing: {
        series: picked.map((t) => ({ label: t.task_id, values: scale(t.landing, landUnit.size) })),
        unit: landUnit,
      },
      tries: { series: picked.map((t) => ({ label: t.task_id, values: t.tries })) },
    };
  }, [data, tasks]);
  const X = "Run (logical date)";
  return (
    <div className="duration-charts">
      <UChart
        id="run-duration"
        title="Run duration"
        xLabel={X}
        yLabel={`Duration (${charts.run.unit.name})`}
        xLabels={charts.xLabels}
        series={charts.run.series}
        format={useFormat(charts.run.unit.size)}
      />
      <UChart
        id="task-duration"
        title="Task duration"
        xLabel={X}
        yLabel={`Duration (${charts.task.unit.name})`}
        xLabels={charts.xLabels}
        series={charts.task.series}
        format={useFormat(charts.task.unit.size)}
      />
      <UChart
        id="landing-times"
        title="Landing times (task end − data interval end)"
        xLabel={X}
        yLabel={`Landed after (${charts.landing.unit.name})`}
        xLabels={charts.xLabels}
        series={charts.landing.series}
        format={useFormat(charts.landing.unit.size)}
      />
      <UChart
        id="task-tries"
        title="Task tries"
        xLabel={X}
        yLabel="Tries (count)"
        xLabels={charts.xLabels}
        series={charts.tries.series}
        format={formatCount}
        integer
      />
    </div>
  );
}

/** A stable formatter for values in units of `size` seconds (stable so charts are not redrawn). */
function useFormat(size: number): (v: number) => string {
  return useMemo(() => (v: number) => formatSeconds(v * size), [size]);
}

const formatCount = (v: number) => String(v);

function shortDate(iso: string | null, seconds: boolean): string | null {
  if (iso === null) return null;
  return new Date(iso).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
  });
}
