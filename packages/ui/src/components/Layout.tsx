// The frame of every page after login: the navigation bar (pages, theme toggle, user, logout).
// Admin shows only for roles that may change something there (Op, Admin: as Airflow's Admin
// menu); every user reaches their own API tokens from their name.
import type { ReactNode } from "react";
import { useLogout, useMe } from "../lib/auth";
import { Link, navigate, useLocation } from "../lib/router";
import { useTheme } from "../lib/theme";
import { useAdminMenu } from "../pages/admin/admin-sections";

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const [theme, toggleTheme] = useTheme();
  const logout = useLogout();
  const { pathname } = useLocation();
  const admin = useAdminMenu();
  const onLogout = async () => {
    await logout();
    navigate("/login");
  };
  return (
    <div className="app">
      <header className="topbar">
        <Link to="/dags" className="brand" aria-label="Updraft home">
          <span className="brand-mark" aria-hidden="true">
            ▲
          </span>
          Updraft
        </Link>
        <nav aria-label="Main">
          <Link to="/dags" className={pathname === "/" || pathname.startsWith("/dags") ? "active" : ""}>
            DAGs
          </Link>
          <Link to="/browse/runs" className={pathname.startsWith("/browse") ? "active" : ""}>
            Browse
          </Link>
          {admin[0] !== undefined && (
            <Link to={`/admin/${admin[0].id}`} className={pathname.startsWith("/admin") ? "active" : ""}>
              Admin
            </Link>
          )}
        </nav>
        <div className="spacer" />
        <button
          type="button"
          className="ghost"
          onClick={toggleTheme}
          title={`Switch to the ${theme === "dark" ? "light" : "dark"} theme`}
        >
          {theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
        <Link
          to="/admin/tokens"
          className="user"
          title={`Your API tokens. Role${me.data?.roles.length === 1 ? "" : "s"}: ${me.data?.roles.join(", ") ?? ""}`}
        >
          {me.data?.username} <span className="muted">({me.data?.roles.join(", ")})</span>
        </Link>
        <button type="button" className="ghost" onClick={() => void onLogout()}>
          Log out
        </button>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
