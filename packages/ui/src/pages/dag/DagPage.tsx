// One DAG: its header (name, schedule, pause, trigger) and its tabs, one file each.
import { useQuery } from "@tanstack/react-query";
import { Suspense, useState } from "react";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { scheduleText } from "../../lib/schedule";
import { Link, navigate, useLocation } from "../../lib/router";
import { TriggerDialog } from "../dags/TriggerDialog";
import { lazyNamed } from "../../lib/lazy";
import { GridTab } from "./GridTab";

type TabProps = { dagId: string };
const CalendarTab = lazyNamed<TabProps>(() => import("./CalendarTab"), "CalendarTab");
const CodeTab = lazyNamed<TabProps>(() => import("./CodeTab"), "CodeTab");
const DetailsTab = lazyNamed<TabProps>(() => import("./DetailsTab"), "DetailsTab");
const DurationsTab = lazyNamed<TabProps>(() => import("./DurationsTab"), "DurationsTab");
const GanttTab = lazyNamed<TabProps>(() => import("./GanttTab"), "GanttTab");
const GraphTab = lazyNamed<TabProps>(() => import("./GraphTab"), "GraphTab");

export const DAG_TABS = [
  { id: "grid", label: "Grid" },
  { id: "graph", label: "Graph" },
  { id: "gantt", label: "Gantt" },
  { id: "code", label: "Code" },
  { id: "calendar", label: "Calendar" },
  { id: "durations", label: "Durations" },
  { id: "details", label: "Details" },
] as const;

export function DagPage({ dagId, tab }: { dagId: string; tab: string }) {
  const canTrigger = useCan("dag_runs:create");
  const [triggering, setTriggering] = useState(false);
  const details = useQuery({
    queryKey: ["dag", dagId, "details"],
    queryFn: () => unwrap(api.GET("/api/v1/dags/{dag_id}/details", { params: { path: { dag_id: dagId } } })),
  });
  const base = `/dags/${encodeURIComponent(dagId)}`;
  // The selected run follows the user from tab to tab (Grid, Graph, Gantt show the same run).
  const run = useLocation().search.get("run");
  const runQuery = run === null ? "" : `?run=${encodeURIComponent(run)}`;
  const d = details.data;
  return (
    <div className="page dag-page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/dags">DAGs</Link> <span aria-hidden="true">/</span> <span>{dagId}</span>
      </nav>
      <div className="page-head">
        <h1>{d?.dag_display_name ?? dagId}</h1>
        {d?.is_paused === true && <span className="badge">paused</span>}
        {d && (
          <span className="muted">
            {scheduleText(d.timetable_description, d.timetable_summary)}
            {d.owners.length > 0 ? ` · owner ${d.owners.join(", ")}` : ""}
          </span>
        )}
        <div className="spacer" />
        {canTrigger && (
          <button
            type="button"
            className="primary"
            onClick={() => setTriggering(true)}
            aria-label={`Trigger ${dagId}`}
          >
            ▶ Trigger
          </button>
        )}
      </div>
      {details.isError && <p className="error">{details.error.message}</p>}
      <div className="tabs" role="tablist">
        {DAG_TABS.map((t) => (
          <Link
            key={t.id}
            to={`${base}/${t.id}${runQuery}`}
            role="tab"
            aria-selected={tab === t.id}
            className={tab === t.id ? "tab on" : "tab"}
          >
            {t.label}
          </Link>
        ))}
      </div>
      <div className="tab-body">
        <Suspense fallback={<p className="muted">Loading…</p>}>
          {tab === "grid" && <GridTab dagId={dagId} />}
          {tab === "details" && <DetailsTab dagId={dagId} />}
          {tab === "graph" && <GraphTab dagId={dagId} />}
          {tab === "gantt" && <GanttTab dagId={dagId} />}
          {tab === "code" && <CodeTab dagId={dagId} />}
          {tab === "calendar" && <CalendarTab dagId={dagId} />}
          {tab === "durations" && <DurationsTab dagId={dagId} />}
        </Suspense>
        {!DAG_TABS.some((t) => t.id === tab) && <p className="error">No tab “{tab}”.</p>}
      </div>
      {triggering && (
        <TriggerDialog
          dagId={dagId}
          onClose={(runId) => {
            setTriggering(false);
            if (runId !== undefined) navigate(`${base}/grid?run=${encodeURIComponent(runId)}`);
          }}
        />
      )}
    </div>
  );
}
