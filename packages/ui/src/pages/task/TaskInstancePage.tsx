// One task instance: /dags/{dag_id}/runs/{run_id}/tasks/{task_id}[?map_index=N]. Its header (where
// and how it ran), the actions the role allows, why it is not running yet (while it waits), every
// try with its log, the fields as the runner rendered them, and its XComs. Everything from DAG
// files and tasks (log lines, rendered values, XCom values, notes) is text, never HTML.
import { useState } from "react";
import { RunActions } from "../../components/actions/RunActions";
import { TaskActions } from "../../components/actions/TaskActions";
import { LogViewer } from "../../components/log/LogViewer";
import { StateBadge, StateMark } from "../../components/state";
import { formatDate, formatDuration } from "../../lib/format";
import { Link, navigate } from "../../lib/router";
import { RenderedFields } from "./RenderedFields";
import { Reschedules } from "./Reschedules";
import { FINISHED, LIVE, useTaskInstance, useTries, type TiKey } from "./ti-queries";
import { WhyNotRunning } from "./WhyNotRunning";
import { XComList } from "./XComList";
import "./task.css";

export function TaskInstancePage(props: { dagId: string; runId: string; taskId: string; mapIndex: number }) {
  const k: TiKey = { ...props, mapIndex: Number.isInteger(props.mapIndex) ? props.mapIndex : -1 };
  const ti = useTaskInstance(k);
  const live = LIVE.has(ti.data?.state ?? "");
  const tries = useTries(k, live);
  const [chosenTry, setChosenTry] = useState<number | null>(null);
  const dagUrl = `/dags/${encodeURIComponent(k.dagId)}/grid`;
  const runUrl = `${dagUrl}?run=${encodeURIComponent(k.runId)}`;
  if (ti.isPending) return <p className="muted">Loading {k.taskId}…</p>;
  if (ti.isError)
    return (
      <div className="empty">
        <h1>Task instance not found</h1>
        <p className="error">{ti.error.message}</p>
        <p>
          Back to the <Link to={dagUrl}>{k.dagId}</Link> Grid.
        </p>
      </div>
    );
  const t = ti.data;
  const tryList = tries.data?.task_instances ?? [];
  const tryNumber = chosenTry ?? t.try_number;
  const shownTry = tryList.find((x) => x.try_number === tryNumber);
  const waiting = !FINISHED.has(t.state ?? "") && t.state !== "running";
  return (
    <div className="ti-page">
      <nav className="crumbs small" aria-label="Breadcrumb">
        <Link to="/dags">DAGs</Link> / <Link to={dagUrl}>{k.dagId}</Link> /{" "}
        <Link to={runUrl} className="mono">
          {k.runId}
        </Link>
      </nav>
      <header className="ti-head">
        <h1 className="mono">
          {t.task_display_name}
          {t.map_index >= 0 && <span className="muted"> [{t.rendered_map_index ?? t.map_index}]</span>}
        </h1>
        <StateBadge state={t.state} />
        <span className="spacer" />
        <TaskActions
          ti={{
            dagId: k.dagId,
            runId: k.runId,
            taskId: k.taskId,
            mapIndex: k.mapIndex,
            logicalDate: t.logical_date,
          }}
        />
      </header>
      <dl className="ti-facts">
        <Fact label="DAG">
          <Link to={dagUrl}>{t.dag_id}</Link>
        </Fact>
        <Fact label="Run">
          <Link to={runUrl} className="mono">
            {t.dag_run_id}
          </Link>
        </Fact>
        {t.map_index >= 0 && <Fact label="Map index">{String(t.map_index)}</Fact>}
        <Fact label="Try">
          {t.try_number} of {t.max_tries + 1}
        </Fact>
        <Fact label="Operator">{t.operator ?? "—"}</Fact>
        <Fact label="Pool">
          {t.pool}
          {t.pool_slots !== 1 ? ` (${t.pool_slots} slots)` : ""}
        </Fact>
        <Fact label="Queue">{t.queue}</Fact>
        <Fact label="Started">{formatDate(t.start_date)}</Fact>
        <Fact label="Ended">{formatDate(t.end_date)}</Fact>
        <Fact label="Duration">{t.start_date ? formatDuration(t.start_date, t.end_date) : "—"}</Fact>
        <Fact label="Host">{t.hostname ?? "—"}</Fact>
        <Fact label="Logical date">{formatDate(t.logical_date)}</Fact>
      </dl>
      {t.note && <p className="note ti-note">{t.note}</p>}
      {waiting && <WhyNotRunning k={k} />}

      <section className="ti-section" aria-labelledby="ti-tries">
        <h2 id="ti-tries">Tries and log</h2>
        {t.try_number === 0 || tryList.length === 0 ? (
          <p className="muted">
            {tries.isPending ? "Loading the tries…" : "Not started yet: no try, no log."}
          </p>
        ) : (
          <>
            <div className="tries" role="tablist" aria-label="Tries">
              {tryList.map((x) => (
                <button
                  key={x.try_number}
                  type="button"
                  role="tab"
                  aria-selected={x.try_number === tryNumber}
                  className={`try${x.try_number === tryNumber ? " on" : ""}`}
                  onClick={() => setChosenTry(x.try_number)}
                >
                  <StateMark state={x.state} /> Try {x.try_number}
                  <span className="muted small">
                    {" "}
                    {formatDate(x.start_date)} ·{" "}
                    {x.start_date ? formatDuration(x.start_date, x.end_date) : "—"}
                  </span>
                </button>
              ))}
            </div>
            {shownTry && (
              <p className="muted small try-facts">
                Try {shownTry.try_number}: {shownTry.state ?? "no status"} on {shownTry.hostname ?? "—"}
                {shownTry.pid !== null ? ` (pid ${shownTry.pid})` : ""}, pool {shownTry.pool ?? "—"}, queued{" "}
                {formatDate(shownTry.queued_when)}
              </p>
            )}
            <Reschedules k={k} tryNumber={tryNumber} live={live && tryNumber === t.try_number} />
            <LogViewer
              key={tryNumber}
              logKey={{ ...k, tryNumber }}
              live={live && tryNumber === t.try_number}
              height="62vh"
            />
          </>
        )}
      </section>

      <div className="ti-columns">
        <section className="ti-section" aria-labelledby="ti-rendered">
          <h2 id="ti-rendered">Rendered fields</h2>
          <RenderedFields fields={t.rendered_fields} />
        </section>
        <section className="ti-section" aria-labelledby="ti-xcom">
          <h2 id="ti-xcom">XCom</h2>
          <XComList k={k} live={live} />
        </section>
      </div>

      <section className="ti-section" aria-labelledby="ti-run">
        <h2 id="ti-run">Run</h2>
        <RunActions dagId={k.dagId} runId={k.runId} onDeleted={() => navigate(dagUrl)} />
      </section>
    </div>
  );
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="ti-fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
