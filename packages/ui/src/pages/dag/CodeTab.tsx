// The DAG page's Code tab.
import { Coming } from "../../components/Coming";

export function CodeTab(_props: { dagId: string }) {
  return (
    <Coming
      what="Code"
      hint="This view is not built yet (issue 9). The Grid shows this DAG's runs and tasks."
    />
  );
}
