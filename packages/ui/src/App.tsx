// The page for the current path. A new page is added here and its top-level path to
// UI_PAGE_ROUTES in packages/updraft/src/api/auth/public-routes.ts (the server's list).
import { Layout } from "./components/Layout";
import { isUnauthorized, useMe } from "./lib/auth";
import { Redirect, useLocation } from "./lib/router";
import { Suspense } from "react";
import { lazyNamed } from "./lib/lazy";
import { DagPage } from "./pages/dag/DagPage";
import { DagsPage } from "./pages/dags/DagsPage";
import { LoginPage } from "./pages/LoginPage";
// Eager: its log viewer is in the main bundle anyway (the Grid's panel), and a 50 MB log's first
// lines should not wait for a chunk.
import { TaskInstancePage } from "./pages/task/TaskInstancePage";

const AdminPage = lazyNamed<{ section: string }>(() => import("./pages/admin/AdminPage"), "AdminPage");
const BrowsePage = lazyNamed<{ section: string }>(() => import("./pages/browse/BrowsePage"), "BrowsePage");

function loginUrl(pathname: string, search: URLSearchParams): string {
  const back = pathname + (search.size > 0 ? `?${search.toString()}` : "");
  return `/login?next=${encodeURIComponent(back)}`;
}

export function App() {
  const { pathname, search } = useLocation();
  const me = useMe();
  if (pathname === "/login") return <LoginPage />;
  if (me.isPending) return <div className="splash">Loading…</div>;
  if (me.isError) {
    if (isUnauthorized(me.error)) return <Redirect to={loginUrl(pathname, search)} />;
    return <div className="splash error">Cannot reach the Updraft API: {me.error.message}</div>;
  }
  return (
    <Layout>
      <Suspense fallback={<div className="splash">Loading…</div>}>{page(pathname, search)}</Suspense>
    </Layout>
  );
}

function page(pathname: string, search: URLSearchParams) {
  if (pathname === "/" || pathname === "/dags" || pathname === "/dags/") return <DagsPage />;
  const ti = /^\/dags\/([^/]+)\/runs\/([^/]+)\/tasks\/([^/]+)\/?$/.exec(pathname);
  if (ti !== null) {
    const [dagId, runId, taskId] = ti.slice(1).map((p) => decodeURIComponent(p ?? ""));
    return (
      <TaskInstancePage
        dagId={dagId ?? ""}
        runId={runId ?? ""}
        taskId={taskId ?? ""}
        mapIndex={Number(search.get("map_index") ?? "-1")}
      />
    );
  }
  const section = /^\/(admin|browse)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (section !== null) {
    if (section[1] === "admin") return <AdminPage section={section[2] ?? "variables"} />;
    return <BrowsePage section={section[2] ?? "runs"} />;
  }
  const dag = /^\/dags\/([^/]+)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (dag !== null) return <DagPage dagId={decodeURIComponent(dag[1] ?? "")} tab={dag[2] ?? "grid"} />;
  return (
    <div className="empty">
      <h1>Page not found</h1>
      <p>
        No page at <code>{pathname}</code>. Go to the <a href="/dags">DAGs</a>.
      </p>
    </div>
  );
}
