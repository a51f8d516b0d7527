// Turns an operator's fields as written into what `execute` receives: template fields rendered,
// XCom references replaced by the pulled values, and for a mapped instance the element
// `map_index` of the expanded lists. XCom values are data: they are never rendered.
import { UpdraftError } from "../common/errors.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import { isXComArg } from "../sdk/xcom-arg.js";
import { isTemplate } from "./templates.js";

/** A value that came from XCom (or was already resolved): used as is, never rendered. */
class Resolved {
  constructor(readonly value: unknown) {}
}

export interface FieldResolver {
  /** Pulls a producer's value; a mapped producer's values come as one list. */
  pull(taskId: string, key: string): Promise<unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
}

/** Every template string in the fields that will be rendered (to find the variables they read). */
export function templateSources(task: BaseOperator): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") {
      if (isTemplate(v)) out.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (isPlainObject(v) && !isXComArg(v)) Object.values(v).forEach(walk);
  };
  for (const name of task.templateFields) walk(task.fields[name]);
  if (task.mapped !== null)
    for (const [name, v] of Object.entries(task.mapped.expand)) if (isTemplateTarget(task, name)) walk(v);
  return out;
}

/** TaskFlow tasks expand positional arguments ("0", "1", …) that live in the `args` field. */
function isTaskFlowArgs(task: BaseOperator): boolean {
  return task.templateFields.includes("args") && Array.isArray(task.fields["args"]);
}

function isTemplateTarget(task: BaseOperator, expandKey: string): boolean {
  return isTaskFlowArgs(task) && /^\d+$/.test(expandKey)
    ? task.templateFields.includes("args")
    : task.templateFields.includes(expandKey);
}

function asList(value: unknown, taskId: string, key: string, source: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value)) return Object.entries(value);
  throw new UpdraftError(
    "INVALID_EXPAND_VALUE",
    `Task "${taskId}" maps over ${source} for "${key}", which is ${value === undefined ? "missing" : `a ${typeof value}`}, not a list. The producing task must return a list (or an object, mapped as [key, value] pairs).`,
    { details: { task_id: taskId, field: key } },
  );
}

/** The fields of mapped instance `mapIndex`: one element of each expanded list (cross product, last varies fastest). */
async function expandedFields(
  task: BaseOperator,
  mapIndex: number,
  resolver: FieldResolver,
): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = { ...task.fields };
  if (task.mapped === null) return fields;
  if (mapIndex < 0) {
    throw new UpdraftError(
      "MAP_INDEX_MISSING",
      `Task "${task.taskId}" is mapped, so each instance needs a map_index ≥ 0; got ${mapIndex}.`,
    );
  }
  const keys = Object.keys(task.mapped.expand);
  const lists: unknown[][] = [];
  for (const key of keys) {
    const source = task.mapped.expand[key];
    if (isXComArg(source)) {
      const pulled = await resolver.pull(source.operator.taskId, source.key);
      lists.push(
        asList(pulled, task.taskId, key, `the output of "${source.operator.taskId}"`).map(
          (v) => new Resolved(v),
        ),
      );
    } else {
      lists.push(asList(source, task.taskId, key, "a literal list"));
    }
  }
  const total = lists.reduce((n, l) => n * l.length, 1);
  if (mapIndex >= total) {
    throw new UpdraftError(
      "MAP_INDEX_OUT_OF_RANGE",
      `Task "${task.taskId}" instance ${mapIndex} does not exist: the expanded lists give ${total} instance(s). An upstream list may have changed since the instances were created.`,
    );
  }
  let rest = mapIndex;
  const picked = new Map<string, unknown>();
  for (let i = keys.length - 1; i >= 0; i--) {
    const list = lists[i] ?? [];
    picked.set(keys[i] ?? "", list[rest % list.length]);
    rest = Math.floor(rest / list.length);
  }
  if (isTaskFlowArgs(task)) {
    const args = [...(fields["args"] as unknown[])];
    for (const [k, v] of picked) args[Number(k)] = v;
    fields["args"] = args;
  } else {
    for (const [k, v] of picked) fields[k] = v;
  }
  return fields;
}

/** Renders strings (when `render` is given) and resolves XCom references, recursively. */
async function materialize(
  value: unknown,
  path: string,
  render: ((s: string, path: string) => unknown) | null,
  resolver: FieldResolver,
): Promise<unknown> {
  if (value instanceof Resolved) return value.value;
  if (isXComArg(value)) return resolver.pull(value.operator.taskId, value.key);
  if (typeof value === "string") return render !== null && isTemplate(value) ? render(value, path) : value;
  if (Array.isArray(value))
    return Promise.all(value.map((v, i) => materialize(v, `${path}[${i}]`, render, resolver)));
  if (isPlainObject(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(
        async ([k, v]) => [k, await materialize(v, `${path}.${k}`, render, resolver)] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

export interface ResolvedFields {
  /** What `execute` receives. */
  fields: Record<string, unknown>;
  /** The template fields after rendering, for the rendered-fields record. */
  rendered: Record<string, unknown>;
}

export async function resolveFields(
  task: BaseOperator,
  mapIndex: number,
  resolver: FieldResolver,
  render: (source: string, field: string) => unknown,
): Promise<ResolvedFields> {
  const written = await expandedFields(task, mapIndex, resolver);
  const templated = new Set<string>(task.templateFields);
  const fields: Record<string, unknown> = {};
  const rendered: Record<string, unknown> = {};
  await Promise.all(
    Object.entries(written).map(async ([name, v]) => {
      const isTemplated = templated.has(name);
      const out = await materialize(v, name, isTemplated ? render : null, resolver);
      fields[name] = out;
      if (isTemplated) rendered[name] = out;
    }),
  );
  // Keep the order fields were written in.
  const ordered: Record<string, unknown> = {};
  for (const name of Object.keys(written)) ordered[name] = fields[name];
  return { fields: ordered, rendered };
}
