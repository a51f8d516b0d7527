// The DAG ids for a filter's suggestions (a <datalist>), from the first page of GET /dags.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../lib/api";

export function DagIdOptions({ id }: { id: string }) {
  const dags = useQuery({
    queryKey: ["dags", "ids"],
    queryFn: () => unwrap(api.GET("/api/v1/dags", { params: { query: { limit: 100, order_by: "dag_id" } } })),
    staleTime: 60_000,
  });
  return (
    <datalist id={id}>
      {(dags.data?.dags ?? []).map((d) => (
        <option key={d.dag_id} value={d.dag_id} />
      ))}
    </datalist>
  );
}
