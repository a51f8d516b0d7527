// kubernetes-models' validate() checks types, required fields and enums but lets unknown fields
// through, and an unknown field is what a mis-indented Helm template produces (a key that lands
// one level off). This walks an object against the interfaces in kubernetes-models' .d.ts files
// and names every field the Kubernetes API does not define.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const MODELS = dirname(require.resolve("kubernetes-models/package.json"));
const NODE_MODULES = dirname(MODELS);

type Field = { ref: string | null; array: boolean };
type Shape = { fields: Map<string, Field>; file: string };

const shapes = new Map<string, Shape | null>();

/** The interface a .d.ts file declares, with each field's type when it is another interface. */
function shapeOf(file: string): Shape | null {
  if (shapes.has(file)) return shapes.get(file)!;
  let shape: Shape | null = null;
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8");
    const imports = new Map<string, string>();
    for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
      const spec = m[2]!;
      imports.set(
        m[1]!,
        spec.startsWith(".") ? join(dirname(file), `${spec}.d.ts`) : join(NODE_MODULES, `${spec}.d.ts`),
      );
    }
    const body = /export interface I\w+( extends TypeMeta)? \{\n([\s\S]*?)\n\}/.exec(text);
    if (body !== null) {
      const fields = new Map<string, Field>();
      if (body[1] !== undefined) {
        fields.set("apiVersion", { ref: null, array: false });
        fields.set("kind", { ref: null, array: false });
      }
      // One field per line at this indentation; a type spanning lines (an inline map or object)
      // starts with "{" or "Array<{" and is not followed further.
      for (const m of body[2]!.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
        const type = m[2]!;
        const arr = /^Array<(\w+)>$/.exec(type);
        const name = arr?.[1] ?? type;
        fields.set(m[1]!, { ref: imports.get(name) ?? null, array: arr !== null });
      }
      shape = { fields, file };
    }
  }
  shapes.set(file, shape);
  return shape;
}

function walk(value: unknown, file: string, path: string, out: string[]): void {
  const shape = shapeOf(file);
  if (shape === null || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const field = shape.fields.get(key);
    if (field === undefined) {
      out.push(`${path}.${key}`);
      continue;
    }
    if (field.ref === null) continue;
    if (field.array && Array.isArray(child))
      child.forEach((c, i) => walk(c, field.ref!, `${path}.${key}[${i}]`, out));
    else if (!field.array) walk(child, field.ref, `${path}.${key}`, out);
  }
}

/**
 * Paths of the fields of `object` that its type does not define. `model` is the type's file in
 * kubernetes-models without extension: "apps/v1/Deployment", "v1/Pod".
 */
export function unknownFields(object: unknown, model: string): string[] {
  const file = join(MODELS, `${model}.d.ts`);
  if (shapeOf(file) === null) throw new Error(`kubernetes-models has no interface in ${file}`);
  const out: string[] = [];
  walk(object, file, "", out);
  return out;
}
