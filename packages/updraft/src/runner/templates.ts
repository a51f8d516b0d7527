// Jinja-syntax templates (nunjucks) for an operator's template fields. Only strings written in the
// DAG file are rendered; values from conf, params and XCom are inserted as data, never re-read as
// templates (RELIABILITY.md item 19). nunjucks looks names up synchronously, so the variables and
// connections a template names are fetched before rendering.
import nunjucks from "nunjucks";
import { UpdraftError } from "../common/errors.js";
import type { Connection, TaskContext } from "../sdk/context.js";
import { TemplateDate, dsAdd, dsFormat, strftime, toTs } from "./dates.js";

const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
const compiled = new Map<string, nunjucks.Template>();
const MAX_COMPILED = 1000;

/** True when a string holds template syntax at all (most strings do not: skip the engine). */
export function isTemplate(s: string): boolean {
  return s.includes("{{") || s.includes("{%") || s.includes("{#");
}

/** What a set of template sources reads that must be fetched first. */
export interface TemplateNeeds {
  variables: Set<string>;
  connections: Set<string>;
}

const VAR_REF = /\bvar\s*\.\s*(?:value|json)\s*(?:\.\s*([A-Za-z_][\w]*)|\[\s*(['"])(.*?)\2\s*\])/g;
const CONN_REF = /\bconn\s*(?:\.\s*([A-Za-z_][\w]*)|\[\s*(['"])(.*?)\2\s*\])/g;

export function templateNeeds(sources: Iterable<string>): TemplateNeeds {
  const needs: TemplateNeeds = { variables: new Set(), connections: new Set() };
  for (const s of sources) {
    for (const m of s.matchAll(VAR_REF)) needs.variables.add(m[1] ?? m[3] ?? "");
    for (const m of s.matchAll(CONN_REF)) needs.connections.add(m[1] ?? m[3] ?? "");
  }
  needs.variables.delete("");
  needs.connections.delete("");
  return needs;
}

/** The names templates see: the task context with Airflow's extras, dates that print as Airflow's. */
export function templateScope(
  ctx: TaskContext,
  variables: ReadonlyMap<string, string>,
  connections: ReadonlyMap<string, Connection>,
): Record<string, unknown> {
  const asTemplateDate = (d: Date) => new TemplateDate(d.getTime());
  const value: Record<string, string> = {};
  const json: Record<string, unknown> = {};
  for (const [k, v] of variables) {
    value[k] = v;
    try {
      json[k] = JSON.parse(v) as unknown;
    } catch {
      // not JSON: only var.value has it, and var.json.k is reported as undefined
    }
  }
  const logical = asTemplateDate(ctx.logical_date);
  return {
    ds: ctx.ds,
    ds_nodash: ctx.ds_nodash,
    ts: ctx.ts,
    ts_nodash: ctx.ts_nodash,
    ts_nodash_with_tz: `${ctx.ts_nodash}+0000`,
    logical_date: logical,
    data_interval_start: asTemplateDate(ctx.data_interval_start),
    data_interval_end: asTemplateDate(ctx.data_interval_end),
    run_id: ctx.run_id,
    dag_run: {
      ...ctx.dag_run,
      logical_date: logical,
      data_interval_start: asTemplateDate(ctx.data_interval_start),
      data_interval_end: asTemplateDate(ctx.data_interval_end),
      start_date: ctx.dag_run.start_date === null ? null : asTemplateDate(ctx.dag_run.start_date),
    },
    ti: ctx.ti,
    task_instance: ctx.ti,
    task_instance_key_str: `${ctx.dag.dag_id}__${ctx.task.task_id}__${ctx.ds_nodash}`,
    params: ctx.params,
    var: { value, json },
    conn: Object.fromEntries(connections),
    macros: {
      ds_add: dsAdd,
      ds_format: dsFormat,
      strftime: (d: Date, f: string) => strftime(d, f),
      isoformat: (d: Date) => toTs(d),
    },
    dag: ctx.dag,
    task: ctx.task,
  };
}

interface AstNode {
  typename?: string;
  lineno?: number;
  colno?: number;
  value?: unknown;
  target?: AstNode;
  val?: AstNode;
  fields?: readonly string[];
  [k: string]: unknown;
}

function expressionText(node: AstNode): string | undefined {
  if (node.typename === "Symbol") return String(node.value);
  if (node.typename === "LookupVal" && node.target !== undefined && node.val !== undefined) {
    const base = expressionText(node.target);
    if (base === undefined) return undefined;
    const key = node.val.value;
    if (node.val.typename === "Literal" && typeof key === "string" && /^[A-Za-z_]\w*$/.test(key))
      return `${base}.${key}`;
    return `${base}[${JSON.stringify(key)}]`;
  }
  return undefined;
}

/** The expression printed by the `{{ … }}` at (line, col): nunjucks reports the Output node's position. */
function findAt(node: AstNode, line: number, col: number): AstNode | undefined {
  if (node.lineno === line && node.colno === col) {
    if (node.typename === "Symbol" || node.typename === "LookupVal") return node;
    const first = Array.isArray(node["children"]) ? (node["children"] as AstNode[])[0] : undefined;
    if (node.typename === "Output" && first !== undefined) return first;
  }
  for (const f of node.fields ?? []) {
    const child = node[f];
    const list = Array.isArray(child)
      ? (child as AstNode[])
      : child !== null && typeof child === "object"
        ? [child as AstNode]
        : [];
    for (const c of list) {
      const hit = findAt(c, line, col);
      if (hit !== undefined) return hit;
    }
  }
  if (Array.isArray(node["children"]) && !(node.fields ?? []).includes("children")) {
    for (const c of node["children"] as AstNode[]) {
      const hit = findAt(c, line, col);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** The name of the undefined value nunjucks complained about, found by its position in the template. */
function undefinedName(source: string, message: string): { name?: string; where: string } {
  const m = /\[Line (\d+), Column (\d+)\]/.exec(message);
  if (m === null) return { where: "" };
  const where = ` (line ${m[1]}, column ${m[2]})`;
  try {
    const parser = (nunjucks as unknown as { parser: { parse(src: string): AstNode } }).parser;
    const node = findAt(parser.parse(source), Number(m[1]) - 1, Number(m[2]) - 1);
    const name = node === undefined ? undefined : expressionText(node);
    return name === undefined ? { where } : { name, where };
  } catch {
    return { where };
  }
}

/**
 * Renders one template string. `field` names the template field for error messages
 * (`bashCommand`, `env.HOME`, `args[0]`).
 */
export function renderTemplate(
  source: string,
  scope: Record<string, unknown>,
  field: string,
  taskId: string,
): string {
  let template = compiled.get(source);
  try {
    if (template === undefined) {
      template = new nunjucks.Template(source, env, undefined, true);
      if (compiled.size >= MAX_COMPILED) compiled.clear();
      compiled.set(source, template);
    }
    return template.render(scope);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const text = message
      .replace(/^\(unknown path\)\s*/, "")
      .replace(/\s+/g, " ")
      .trim();
    if (message.includes("attempted to output null or undefined value")) {
      const found = undefinedName(source, message);
      const what = found.name !== undefined ? `"${found.name}" is undefined` : "a value is undefined";
      throw new UpdraftError(
        "TEMPLATE_UNDEFINED",
        `Template field "${field}" of task "${taskId}": ${what}${found.where}. Check the name, or give a default: {{ ${found.name ?? "value"} | default("") }}.`,
        { details: { field, ...(found.name !== undefined ? { name: found.name } : {}) } },
      );
    }
    throw new UpdraftError(
      "TEMPLATE_ERROR",
      `Template field "${field}" of task "${taskId}" could not be rendered: ${text}`,
      {
        details: { field },
      },
    );
  }
}
