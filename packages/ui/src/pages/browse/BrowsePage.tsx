// Browse pages: /browse/{runs|tasks|audit}
import { Coming } from "../../components/Coming";

export function BrowsePage({ section }: { section: string }) {
  return <Coming what={`Browse: ${section}`} />;
}
