// The DAG page's Details tab: the DAG's doc_md rendered as Markdown (no raw HTML, only safe
// links), and the settings a user looks up: schedule, dates, limits, params with their defaults,
// the task defaults (what its tasks share), the file and when it was parsed.
import type { ReactNode } from "react";
import type { components } from "updraft/client";
import { scheduleText } from "../../lib/schedule";
import { useDagDetails } from "./graph-data";
import { DocMarkdown } from "./details-markdown";
import { taskDefaults, paramRows } from "./details-fields";
import "./details.css";

type Detail = components["schemas"]["DAGDetail"];

export function DetailsTab({ dagId }: { dagId: string }) {
  const details = useDagDetails(dagId);
  if (details.isError) return <p className="error">{details.error.message}</p>;
  if (!details.data) return <p className="muted">Loading…</p>;
  const d = details.data;
  return (
    <div className="details">
      {d.description && <p className="details-desc">{d.description}</p>}
      <div className="details-cols">
        <section aria-label="Documentation" className="details-doc">
          <h2>Documentation</h2>
          {d.doc_md ? <DocMarkdown text={d.doc_md} /> : <p className="muted">This DAG has no doc_md.</p>}
        </section>
        <section aria-label="Settings" className="details-side">
          <h2>Settings</h2>
          <Fields rows={settingRows(d)} />
          <h2>Params</h2>
          <ParamTable params={d.params} />
          <h2>Task defaults</h2>
          <p className="muted small">
            What the DAG's {d.tasks.length} tasks share (from defaultArgs or per task).
          </p>
          <Fields rows={taskDefaults(d.tasks)} />
        </section>
      </div>
    </div>
  );
}

function Fields({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="dfields">
      {rows.map(([k, v]) => (
        <div key={k} className="dfield">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const when = (iso: string | null) => (iso === null ? "—" : new Date(iso).toLocaleString());
const orDefault = (n: number | null) => (n === null ? "default (server setting)" : String(n));

function settingRows(d: Detail): [string, ReactNode][] {
  return [
    ["Schedule", scheduleText(d.timetable_description, d.timetable_summary)],
    ["Timezone", d.timezone ?? "default (server setting)"],
    ["Start date", when(d.start_date)],
    ["End date", when(d.end_date)],
    ["Catchup", d.catchup ? "yes" : "no"],
    ["Next run", d.next_dagrun === null ? "—" : when(d.next_dagrun)],
    [
      "Next data interval",
      d.next_dagrun_data_interval_start === null
        ? "—"
        : `${when(d.next_dagrun_data_interval_start)} → ${when(d.next_dagrun_data_interval_end)}`,
    ],
    ["Max active runs", orDefault(d.max_active_runs)],
    ["Max active tasks", orDefault(d.max_active_tasks)],
    ["Run timeout", d.dag_run_timeout_ms === null ? "none" : `${d.dag_run_timeout_ms / 1000} s`],
    ["Fail stop", d.fail_stop ? "yes" : "no"],
    [
      "Tags",
      d.tags.length === 0 ? (
        "—"
      ) : (
        <span className="tag-list">
          {d.tags.map((t) => (
            <span key={t.name} className="tag">
              {t.name}
            </span>
          ))}
        </span>
      ),
    ],
    ["Owners", d.owners.length === 0 ? "—" : d.owners.join(", ")],
    ["Paused", d.is_paused ? "yes" : "no"],
    ["File", d.fileloc === null ? "—" : <code>{d.fileloc}</code>],
    ["Last parsed", when(d.last_parsed_time)],
    ["DAG hash", <code key="h">{d.dag_hash.slice(0, 12)}</code>],
  ];
}

function ParamTable({ params }: { params: Record<string, unknown> }) {
  const rows = paramRows(params);
  if (rows.length === 0) return <p className="muted">No params.</p>;
  return (
    <table className="params-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Default</th>
          <th>Type</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name}>
            <td>
              <code>{r.name}</code>
            </td>
            <td>
              <code>{r.default}</code>
            </td>
            <td>{r.type}</td>
            <td>{r.description}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
