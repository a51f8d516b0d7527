// Admin pages: /admin/{variables|connections|pools|users|roles|tokens}. Each section shows only
// when the role may read it; its create/edit/delete controls only when the role may use them.
import "../../components/table/table.css";
import "./admin.css";
import { MissingSection } from "../../components/NoPermission";
import { Link } from "../../lib/router";
import { ConnectionsSection } from "./ConnectionsSection";
import { PoolsSection } from "./PoolsSection";
import { RolesSection } from "./RolesSection";
import { TokensSection } from "./TokensSection";
import { UsersSection } from "./UsersSection";
import { ADMIN_SECTIONS, useAdminSections } from "./admin-sections";
import { VariablesSection } from "./VariablesSection";

export function AdminPage({ section }: { section: string }) {
  const sections = useAdminSections();
  const current = sections.find((s) => s.id === section);
  return (
    <div className="page admin">
      <div className="page-head">
        <h1>Admin</h1>
      </div>
      <nav className="tabs" aria-label="Admin sections">
        {sections.map((s) => (
          <Link
            key={s.id}
            to={`/admin/${s.id}`}
            className={`tab${s.id === section ? " on" : ""}`}
            aria-current={s.id === section ? "page" : undefined}
          >
            {s.label}
          </Link>
        ))}
      </nav>
      {current === undefined ? (
        <MissingSection area="Admin" section={section} sections={ADMIN_SECTIONS} />
      ) : (
        <Section id={current.id} />
      )}
    </div>
  );
}

function Section({ id }: { id: (typeof ADMIN_SECTIONS)[number]["id"] }) {
  switch (id) {
    case "variables":
      return <VariablesSection />;
    case "connections":
      return <ConnectionsSection />;
    case "pools":
      return <PoolsSection />;
    case "users":
      return <UsersSection />;
    case "roles":
      return <RolesSection />;
    case "tokens":
      return <TokensSection />;
  }
}
