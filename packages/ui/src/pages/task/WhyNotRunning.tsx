// "Why isn't this running?": the conditions the scheduler still finds unmet for the instance
// (GET …/dependencies), shown while it waits; refreshed while shown.
import { useDependencies, type TiKey } from "./ti-queries";

export function WhyNotRunning({ k }: { k: TiKey }) {
  const deps = useDependencies(k, true);
  return (
    <section className="why" aria-labelledby="ti-why">
      <h2 id="ti-why">Why isn&apos;t this running?</h2>
      {deps.isPending && <p className="muted">Asking the scheduler&apos;s rules…</p>}
      {deps.isError && <p className="error">{deps.error.message}</p>}
      {deps.data && (
        <>
          <p>{deps.data.message}</p>
          {deps.data.dependencies.length > 0 && (
            <ul className="why-list">
              {deps.data.dependencies.map((d, i) => (
                <li key={i}>
                  <strong>{d.name}</strong>: {d.reason}
                </li>
              ))}
            </ul>
          )}
          {deps.data.wait_reason && (
            <p className="muted small">Scheduler&apos;s last note: {deps.data.wait_reason}</p>
          )}
        </>
      )}
    </section>
  );
}
