// Pages and tabs loaded on first use: the DAGs list and the Grid come in the main bundle, the
// rest (the graph's layout engine, charts, Markdown, syntax highlighting, admin pages) in chunks
// of their own, so that the first page parses a fraction of the code.
import { lazy, type ComponentType } from "react";

/** React.lazy for a module's named export. */
export function lazyNamed<P extends object>(
  load: () => Promise<Record<string, unknown>>,
  name: string,
): ComponentType<P> {
  return lazy(async () => ({ default: (await load())[name] as ComponentType<P> }));
}
