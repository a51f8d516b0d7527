// The reschedules of one try: each poke of a sensor in mode "reschedule" that was not done yet
// (Airflow's task_reschedule rows), with when it ran and when it asked to poke again.
import { formatDate } from "../../lib/format";
import { useReschedules, type TiKey } from "./ti-queries";

export function Reschedules({ k, tryNumber, live }: { k: TiKey; tryNumber: number; live: boolean }) {
  const r = useReschedules(k, tryNumber, live);
  const rows = r.data?.task_reschedules ?? [];
  // Most tasks never reschedule: show nothing rather than an empty table.
  if (rows.length === 0) return null;
  return (
    <div className="reschedules">
      <h3 className="small">
        Reschedules of try {tryNumber} ({rows.length})
      </h3>
      <table className="table small" aria-label={`Reschedules of try ${tryNumber}`}>
        <thead>
          <tr>
            <th>#</th>
            <th>Poke started</th>
            <th>Poke ended</th>
            <th>Duration</th>
            <th>Poke again at</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((x, i) => (
            <tr key={x.id}>
              <td>{i + 1}</td>
              <td>{formatDate(x.start_date)}</td>
              <td>{formatDate(x.end_date)}</td>
              <td>{x.duration.toFixed(2)} s</td>
              <td>{formatDate(x.reschedule_date)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
