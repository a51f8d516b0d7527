// One task instance: /dags/{dag_id}/runs/{run_id}/tasks/{task_id}[?map_index=N]
import { Coming } from "../../components/Coming";

export function TaskInstancePage(_props: { dagId: string; runId: string; taskId: string; mapIndex: number }) {
  return <Coming what="Task instance" />;
}
