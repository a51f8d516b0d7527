// The DAG page's Calendar tab.
import { Coming } from "../../components/Coming";

export function CalendarTab(_props: { dagId: string }) {
  return (
    <Coming
      what="Calendar"
      hint="This view is not built yet (issue 9). The Grid shows this DAG's runs and tasks."
    />
  );
}
