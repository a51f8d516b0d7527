// The DAG page's Durations tab.
import { Coming } from "../../components/Coming";

export function DurationsTab(_props: { dagId: string }) {
  return (
    <Coming
      what="Durations"
      hint="This view is not built yet (issue 9). The Grid shows this DAG's runs and tasks."
    />
  );
}
