// The DAG page's Gantt tab.
import { Coming } from "../../components/Coming";

export function GanttTab(_props: { dagId: string }) {
  return (
    <Coming
      what="Gantt"
      hint="This view is not built yet (issue 9). The Grid shows this DAG's runs and tasks."
    />
  );
}
