// A page or tab that is not built yet says so (no invented data).
export function Coming({ what, hint }: { what: string; hint?: string }) {
  return (
    <div className="empty">
      <h2>{what}: coming</h2>
      <p className="muted">{hint ?? "This view is not built yet (issue 9)."}</p>
    </div>
  );
}
