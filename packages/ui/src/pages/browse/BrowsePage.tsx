// Browse pages: /browse/{runs|tasks|assets|audit|workers}: DAG runs and task instances across DAGs,
// assets and their updates, the audit log and the QueueExecutor's workers, each with filters in the URL (a filtered list is a link to share), paged by 100.
import "../../components/table/table.css";
import { useCan } from "../../lib/auth";
import { MissingSection } from "../../components/NoPermission";
import { Link } from "../../lib/router";
import { AssetsSection } from "./AssetsSection";
import { AuditSection } from "./AuditSection";
import { RunsSection } from "./RunsSection";
import { TasksSection } from "./TasksSection";
import { WorkersSection } from "./WorkersSection";

const SECTIONS = [
  { id: "runs", label: "DAG runs", permission: "dag_runs:read" },
  { id: "tasks", label: "Task instances", permission: "task_instances:read" },
  { id: "assets", label: "Assets", permission: "assets:read" },
  { id: "audit", label: "Audit log", permission: "audit_logs:read" },
  { id: "workers", label: "Workers", permission: "workers:read" },
] as const;

export function BrowsePage({ section }: { section: string }) {
  const can = {
    runs: useCan("dag_runs:read"),
    tasks: useCan("task_instances:read"),
    assets: useCan("assets:read"),
    audit: useCan("audit_logs:read"),
    workers: useCan("workers:read"),
  };
  const sections = SECTIONS.filter((s) => can[s.id]);
  const current = sections.find((s) => s.id === section);
  return (
    <div className="page browse">
      <div className="page-head">
        <h1>Browse</h1>
      </div>
      <nav className="tabs" aria-label="Browse sections">
        {sections.map((s) => (
          <Link
            key={s.id}
            to={`/browse/${s.id}`}
            className={`tab${s.id === section ? " on" : ""}`}
            aria-current={s.id === section ? "page" : undefined}
          >
            {s.label}
          </Link>
        ))}
      </nav>
      {current?.id === "runs" && <RunsSection />}
      {current?.id === "tasks" && <TasksSection />}
      {current?.id === "assets" && <AssetsSection />}
      {current?.id === "audit" && <AuditSection />}
      {current?.id === "workers" && <WorkersSection />}
      {current === undefined && <MissingSection area="Browse" section={section} sections={SECTIONS} />}
    </div>
  );
}
