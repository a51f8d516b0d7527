// Admin pages: /admin/{variables|connections|pools|users|roles|tokens}
import { Coming } from "../../components/Coming";

export function AdminPage({ section }: { section: string }) {
  return <Coming what={`Admin: ${section}`} />;
}
