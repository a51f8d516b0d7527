// The DAGs list: search, active/paused filter, "failed" filter (DAGs whose latest run failed: the
// API's last_dag_run_state, as Airflow 3's), tag filter, and per DAG its owner, tags, schedule,
// next run, last run's state, recent runs as marks, the pause toggle and the trigger button (the
// last two only for roles that may use them).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { components } from "updraft/client";
import { EmptyRow } from "../../components/table/EmptyRow";
import { StateMark } from "../../components/state";
import "../../components/table/table.css";
import { api, unwrap } from "../../lib/api";
import { useCan } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { scheduleText } from "../../lib/schedule";
import { Link, navigate, useLocation } from "../../lib/router";
import { ImportErrorsBanner } from "./ImportErrorsBanner";
import { TriggerDialog } from "./TriggerDialog";

type Dag = components["schemas"]["DAG"];
type PausedFilter = "all" | "active" | "paused";
const PAGE = 100;
const RECENT_RUNS = 14;

function setQuery(search: URLSearchParams, key: string, value: string | null): void {
  const next = new URLSearchParams(search);
  if (value === null || value === "") next.delete(key);
  else next.set(key, value);
  const q = next.toString();
  navigate(`/dags${q ? `?${q}` : ""}`, { replace: true });
}

export function DagsPage() {
  const { search } = useLocation();
  const text = search.get("search") ?? "";
  const paused = (search.get("paused") ?? "all") as PausedFilter;
  const tags = search.getAll("tag");
  const failed = search.get("last_run") === "failed";
  const offset = Number(search.get("offset") ?? "0") || 0;
  const canTrigger = useCan("dag_runs:create");
  const canPause = useCan("dags:edit");
  const [triggering, setTriggering] = useState<string | null>(null);

  const dags = useQuery({
    queryKey: ["dags", { text, paused, tags, failed, offset }],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/dags", {
          params: {
            query: {
              limit: PAGE,
              offset,
              order_by: "dag_id",
              ...(text ? { dag_id_pattern: text } : {}),
              ...(paused === "all" ? {} : { paused: paused === "paused" ? "true" : "false" }),
              ...(tags.length > 0 ? { tags } : {}),
              ...(failed ? { last_dag_run_state: "failed" as const } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const list = dags.data?.dags ?? [];
  const total = dags.data?.total_entries ?? 0;

  return (
    <div className="page">
      <ImportErrorsBanner />
      <div className="page-head">
        <h1>DAGs</h1>
        <span className="muted">{dags.data ? `${total} DAG${total === 1 ? "" : "s"}` : ""}</span>
      </div>
      <div className="toolbar" role="search">
        <input
          type="search"
          placeholder="Search DAGs by id…"
          aria-label="Search DAGs"
          defaultValue={text}
          onChange={(e) => setQuery(search, "search", e.target.value)}
        />
        <div className="segmented" role="group" aria-label="Paused filter">
          {(["all", "active", "paused"] as const).map((f) => (
            <button
              key={f}
              type="button"
              aria-pressed={paused === f}
              className={paused === f ? "on" : ""}
              onClick={() => setQuery(search, "paused", f === "all" ? null : f)}
            >
              {f[0]?.toUpperCase()}
              {f.slice(1)}
            </button>
          ))}
        </div>
        <button
          type="button"
          className={`filter-toggle${failed ? " on" : ""}`}
          aria-pressed={failed}
          title="Only DAGs whose latest run failed"
          onClick={() => setQuery(search, "last_run", failed ? null : "failed")}
        >
          <span aria-hidden="true">✗</span> Failed
        </button>
        {tags.map((t) => (
          <button
            key={t}
            type="button"
            className="tag removable"
            title="Remove this tag filter"
            onClick={() => {
              const next = new URLSearchParams(search);
              next.delete("tag");
              for (const other of tags) if (other !== t) next.append("tag", other);
              navigate(`/dags?${next.toString()}`, { replace: true });
            }}
          >
            {t} ✕
          </button>
        ))}
      </div>
      {dags.isError && <p className="error">{dags.error.message}</p>}
      <table className="table dags">
        <thead>
          <tr>
            {canPause && <th className="narrow">Active</th>}
            <th>DAG</th>
            <th>Owner</th>
            <th>Schedule</th>
            <th>Next run</th>
            <th>Recent runs</th>
            {canTrigger && <th className="narrow">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {list.map((dag) => (
            <DagRow
              key={dag.dag_id}
              dag={dag}
              canPause={canPause}
              canTrigger={canTrigger}
              onTrigger={() => setTriggering(dag.dag_id)}
              onTag={(t) => {
                if (tags.includes(t)) return;
                const next = new URLSearchParams(search);
                next.append("tag", t);
                navigate(`/dags?${next.toString()}`, { replace: true });
              }}
            />
          ))}
          {dags.data && list.length === 0 && (
            <EmptyRow columns={7}>
              {failed
                ? "No DAG whose latest run failed matches."
                : "No DAG matches. DAGs appear here once their files in the DAGs folder are parsed."}
            </EmptyRow>
          )}
        </tbody>
      </table>
      {total > PAGE && (
        <div className="pager">
          <button
            type="button"
            disabled={offset === 0}
            onClick={() => setQuery(search, "offset", String(Math.max(0, offset - PAGE)))}
          >
            ← Previous
          </button>
          <span className="muted">
            {offset + 1}–{Math.min(total, offset + PAGE)} of {total}
          </span>
          <button
            type="button"
            disabled={offset + PAGE >= total}
            onClick={() => setQuery(search, "offset", String(offset + PAGE))}
          >
            Next →
          </button>
        </div>
      )}
      {triggering !== null && (
        <TriggerDialog
          dagId={triggering}
          onClose={(runId) => {
            const dagId = triggering;
            setTriggering(null);
            if (runId !== undefined)
              navigate(`/dags/${encodeURIComponent(dagId)}/grid?run=${encodeURIComponent(runId)}`);
          }}
        />
      )}
    </div>
  );
}

function DagRow(props: {
  dag: Dag;
  canPause: boolean;
  canTrigger: boolean;
  onTrigger: () => void;
  onTag: (tag: string) => void;
}) {
  const { dag } = props;
  const client = useQueryClient();
  const runs = useQuery({
    queryKey: ["dag", dag.dag_id, "recent"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/ui/grid/{dag_id}", {
          params: { path: { dag_id: dag.dag_id }, query: { limit: RECENT_RUNS } },
        }),
      ),
    refetchInterval: (q) =>
      q.state.data?.dag_runs.some((r) => r.state === "running" || r.state === "queued") ? 3_000 : 30_000,
  });
  const pause = useMutation({
    mutationFn: (isPaused: boolean) =>
      unwrap(
        api.PATCH("/api/v1/dags/{dag_id}", {
          params: { path: { dag_id: dag.dag_id }, query: { update_mask: "is_paused" } },
          body: { is_paused: isPaused },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ["dags"] }),
  });
  const href = `/dags/${encodeURIComponent(dag.dag_id)}/grid`;
  const recent = [...(runs.data?.dag_runs ?? [])].reverse();
  // Shown as requested while the change is on its way.
  const isPaused = pause.isPending ? (pause.variables ?? dag.is_paused) : dag.is_paused;
  return (
    <tr className={isPaused ? "paused" : ""} data-dag-id={dag.dag_id}>
      {props.canPause && (
        <td>
          <label className="switch" title={isPaused ? "Paused: click to unpause" : "Active: click to pause"}>
            <input
              type="checkbox"
              role="switch"
              aria-label={`${isPaused ? "Unpause" : "Pause"} ${dag.dag_id}`}
              checked={!isPaused}
              disabled={pause.isPending}
              onChange={(e) => pause.mutate(!e.target.checked)}
            />
            <span aria-hidden="true" />
          </label>
          {pause.isError && <span className="error small">{pause.error.message}</span>}
        </td>
      )}
      <td>
        <Link to={href} className="dag-link">
          {dag.dag_display_name}
        </Link>
        {dag.dag_display_name !== dag.dag_id && <div className="muted small mono">{dag.dag_id}</div>}
        <div className="tags">
          {dag.tags.map((t) => (
            <button
              key={t.name}
              type="button"
              className="tag"
              onClick={() => props.onTag(t.name)}
              title="Filter by this tag"
            >
              {t.name}
            </button>
          ))}
          {isPaused && <span className="muted small">paused</span>}
        </div>
      </td>
      <td>{dag.owners.join(", ")}</td>
      <td>
        <ScheduleCell description={dag.timetable_description} summary={dag.timetable_summary} />
      </td>
      <td title={dag.next_dagrun ?? ""}>{formatDate(dag.next_dagrun_create_after ?? dag.next_dagrun)}</td>
      <td>
        <div className="marks" aria-label="Recent runs, oldest first">
          {recent.map((r) => (
            <Link
              key={r.dag_run_id}
              to={`${href}?run=${encodeURIComponent(r.dag_run_id)}`}
              className="mark-link"
            >
              <StateMark state={r.state} title={`${r.dag_run_id}: ${r.state}`} />
            </Link>
          ))}
          {runs.data && recent.length === 0 && <span className="muted small">no runs yet</span>}
        </div>
        {recent.length > 0 && (
          <div className="muted small">
            last:{" "}
            {formatDate(recent[recent.length - 1]?.logical_date ?? recent[recent.length - 1]?.start_date)}
          </div>
        )}
      </td>
      {props.canTrigger && (
        <td>
          <button
            type="button"
            className="icon"
            onClick={props.onTrigger}
            aria-label={`Trigger ${dag.dag_id}`}
            title="Trigger a run"
          >
            ▶ Trigger
          </button>
        </td>
      )}
    </tr>
  );
}

/**
 * The schedule in words and as written (cron), once when they are the same; a DAG scheduled on
 * assets shows its condition on one line, cut when long (styles.css), whole in the tooltip.
 */
function ScheduleCell({ description, summary }: { description: string | null; summary: string | null }) {
  if (summary === null || summary === "None") return <span className="muted">Manual only</span>;
  if (summary.startsWith("Asset")) {
    const text = scheduleText(description, summary);
    return (
      <div className="schedule-assets mono small" title={text}>
        {text}
      </div>
    );
  }
  return (
    <>
      {description !== null && description !== summary && <div>{description}</div>}
      <div className="mono small">{summary}</div>
    </>
  );
}
