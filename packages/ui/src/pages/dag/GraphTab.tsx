// The DAG page's Graph tab.
import { Coming } from "../../components/Coming";

export function GraphTab(_props: { dagId: string }) {
  return (
    <Coming
      what="Graph"
      hint="This view is not built yet (issue 9). The Grid shows this DAG's runs and tasks."
    />
  );
}
