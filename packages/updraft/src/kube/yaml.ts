import { loadYaml } from "@kubernetes/client-node";

/** YAML (or JSON) text as a value, with the client's own parser (js-yaml). */
export function parseYaml(text: string): unknown {
  return loadYaml(text);
}
