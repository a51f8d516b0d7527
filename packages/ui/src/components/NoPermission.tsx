// What a page opened by URL says when the user's role may not see it: the permission it needs and
// the roles the user has, instead of an empty page or the API's raw 403.
import { useMe } from "../lib/auth";

export function NoPermission({ what, permission }: { what: string; permission: string }) {
  const me = useMe().data;
  const roles = me?.roles ?? [];
  const held =
    roles.length === 0
      ? "you have no role"
      : `your role${roles.length === 1 ? "" : "s"} ${roles.join(", ")} do${roles.length === 1 ? "es" : ""} not hold it`;
  return (
    <div className="empty" role="alert" data-permission={permission}>
      <h2>You may not see {what}</h2>
      <p>
        This page needs the permission <code>{permission}</code>, and {held}. An Admin can give{" "}
        {me?.username ?? "you"} a role that does (Admin › Users, or{" "}
        <code>updraft users add-role --username {me?.username ?? "…"} --role …</code>).
      </p>
    </div>
  );
}

/** An Admin or Browse section the role may not read names the permission it needs; an unknown one says so. */
export function MissingSection(props: {
  area: string;
  section: string;
  sections: readonly { id: string; label: string; permission: string }[];
}) {
  const known = props.sections.find((s) => s.id === props.section);
  if (known !== undefined) return <NoPermission what={known.label} permission={known.permission} />;
  return (
    <div className="empty">
      <h2>No such {props.area} page</h2>
      <p>
        There is no {props.area} page &quot;{props.section}&quot;.
      </p>
    </div>
  );
}
