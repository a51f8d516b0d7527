// Jinja-syntax templates (nunjucks) for an operator's template fields. Only strings written in the
// DAG file are rendered; values from conf, params and XCom are inserted as data, never re-read as
// templates (RELIABILITY.md item 19). nunjucks looks names up synchronously, so the variables and
// connections a template names are fetched before rendering.
import { createRequire } from "node:module";
import nunjucks from "nunjucks";
import { UpdraftError } from "../common/errors.js";
import type { Connection, TaskContext } from "../sdk/context.js";
import { toDs } from "./dates.js";
import { pythonLiteral } from "./python-literal.js";
import { CALLABLE_OBJECT, TemplateDate, pyAdd, pySub } from "./template-date.js";
import { AIRFLOW_FILTERS } from "./template-filters.js";
import { didYouMean, templateMacros } from "./template-macros.js";
import { TemplateParams, templateConnections, templateVariables } from "./template-mappings.js";
import { templateError } from "./template-errors.js";
import type { AstNode } from "./nunjucks-ast.js";
import { templateTaskInstance, type FetchedXComs } from "./template-xcom.js";

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

// `var.value.get('k')` is tried first so that `get` itself is not taken for a variable's name.
const VAR_REF =
  /\bvar\s*\.\s*(?:value|json)\s*(?:\.\s*get\s*\(\s*(['"])(.*?)\1|\.\s*([A-Za-z_][\w]*)|\[\s*(['"])(.*?)\4\s*\])/g;
const CONN_REF = /\bconn\s*(?:\.\s*get\s*\(\s*(['"])(.*?)\1|\.\s*([A-Za-z_][\w]*)|\[\s*(['"])(.*?)\4\s*\])/g;

export function templateNeeds(sources: Iterable<string>): TemplateNeeds {
  const needs: TemplateNeeds = { variables: new Set(), connections: new Set() };
  for (const s of sources) {
    for (const m of s.matchAll(VAR_REF)) needs.variables.add(m[2] ?? m[3] ?? m[5] ?? "");
    for (const m of s.matchAll(CONN_REF)) needs.connections.add(m[2] ?? m[3] ?? m[5] ?? "");
  }
  needs.variables.delete("");
  needs.connections.delete("");
  return needs;
}

/**
 * The names templates see: the task context with Airflow's extras, dates that print as Airflow's,
 * `params`/`var`/`conn` as Airflow's mappings and `macros`. `requested` says which variables and
 * connections were fetched, so that a name that was not can be reported as such; `xcoms` holds
 * the answers of the template's `ti.xcom_pull` calls.
 */
export function templateScope(
  ctx: TaskContext,
  variables: ReadonlyMap<string, string>,
  connections: ReadonlyMap<string, Connection>,
  requested?: TemplateNeeds,
  xcoms: FetchedXComs = new Map(),
): Record<string, unknown> {
  const asTemplateDate = (d: Date) => new TemplateDate(d.getTime());
  const logical = asTemplateDate(ctx.logical_date);
  // ti.xcom_pull answers from XComs fetched before rendering (template-xcom.ts).
  const templateTi = templateTaskInstance(ctx.ti, xcoms);
  return {
    ds: ctx.ds,
    ds_nodash: ctx.ds_nodash,
    ts: ctx.ts,
    ts_nodash: ctx.ts_nodash,
    ts_nodash_with_tz: AIRFLOW_FILTERS["ts_nodash_with_tz"]?.(logical),
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
    ti: templateTi,
    task_instance: templateTi,
    task_instance_key_str: `${ctx.dag.dag_id}__${ctx.task.task_id}__${toDs(ctx.logical_date).replace(/-/g, "")}`,
    params: new TemplateParams(ctx.params),
    var: templateVariables(variables, requested?.variables),
    conn: templateConnections(connections, requested?.connections),
    macros: templateMacros(),
    dag: ctx.dag,
    task: ctx.task,
    // Airflow's triggering_asset_events (decision 0031): {{ triggering_asset_events['s3://b/k'][0].extra }}.
    triggering_asset_events: ctx.triggering_asset_events,
  };
}

// nunjucks' compiler pieces that its typings leave out: a template is parsed, its `+` and `-`
// rewritten to Python's date arithmetic, and compiled from that tree.
interface NodeCtor {
  new (lineno: number, colno: number, ...fields: unknown[]): AstNode;
}
interface NunjucksInternals {
  parser: { parse(src: string, extensions: unknown, opts: unknown): AstNode };
  nodes: Record<"FunCall" | "Symbol" | "NodeList" | "Add" | "Sub" | "Output" | "TemplateData", NodeCtor>;
  compiler: {
    Compiler: new (
      name: string | undefined,
      throwOnUndefined: boolean,
    ) => { compile(ast: unknown): void; getCode(): string };
  };
}
const internals = nunjucks as unknown as NunjucksInternals;
const transformer = createRequire(import.meta.url)("nunjucks/src/transformer.js") as {
  transform(ast: AstNode, asyncFilters: unknown, name: string | undefined): unknown;
};

// nunjucks wraps a function found by attribute lookup (`macros.datetime`) in a bare closure, which
// drops the function's own methods (`macros.datetime.now`). Functions marked CALLABLE_OBJECT are
// handed out as they are; everything else goes through nunjucks' lookup unchanged.
const runtime = (nunjucks as unknown as { runtime: { memberLookup(obj: unknown, val: unknown): unknown } })
  .runtime;
const memberLookup = runtime.memberLookup.bind(runtime);
runtime.memberLookup = (obj, val) => {
  if (obj !== null && obj !== undefined) {
    const v = (obj as Record<string, unknown>)[val as string];
    if (typeof v === "function" && (v as unknown as Record<symbol, unknown>)[CALLABLE_OBJECT] === true)
      return v;
  }
  return memberLookup(obj, val);
};

const ADD = "__updraft_py_add__";
const SUB = "__updraft_py_sub__";
const NATIVE = "__updraft_native__";

function call(name: string, node: AstNode, args: AstNode[]): AstNode {
  const { FunCall, Symbol: Sym, NodeList } = internals.nodes;
  const line = node.lineno ?? 0;
  const col = node.colno ?? 0;
  return new FunCall(line, col, new Sym(line, col, name), new NodeList(line, col, args));
}

/** Rewrites `a + b` and `a - b` into calls of pyAdd/pySub, everywhere in the tree. */
function rewriteArithmetic(node: AstNode): AstNode {
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (v === null || typeof v !== "object" || !("typename" in v)) return v;
    const n = v as AstNode;
    for (const f of n.fields ?? []) n[f] = visit(n[f]);
    if (Array.isArray(n["children"]) && !(n.fields ?? []).includes("children"))
      n["children"] = visit(n["children"]);
    if (n.typename === "Add" || n.typename === "Sub") {
      const left = n["left"] as AstNode;
      const right = n["right"] as AstNode;
      return call(n.typename === "Add" ? ADD : SUB, n, [left, right]);
    }
    return n;
  };
  return visit(node) as AstNode;
}

/** The one expression of a template that is exactly `{{ expr }}`, or undefined. */
function singleOutput(root: AstNode): AstNode | undefined {
  const top = root["children"] as AstNode[] | undefined;
  if (top?.length !== 1 || top[0]?.typename !== "Output") return undefined;
  const inner = top[0]["children"] as AstNode[] | undefined;
  if (inner?.length !== 1 || inner[0] === undefined || inner[0].typename === "TemplateData") return undefined;
  return top[0];
}

/** The DAG-level template settings (DagOptions), as the runner reads them from the loaded DAG. */
export interface TemplateSettings {
  /** Airflow's `user_defined_macros`: extra top-level names (context names win over them). */
  userDefinedMacros?: Readonly<Record<string, unknown>>;
  /** Airflow's `user_defined_filters`. */
  userDefinedFilters?: Readonly<Record<string, (...args: never[]) => unknown>>;
  /** Airflow's `render_template_as_native_obj`. */
  renderTemplateAsNativeObj?: boolean;
}

/**
 * A DAG's filter or macro function, checked for a Promise result: nunjucks renders synchronously,
 * so an async function would print "[object Promise]" instead of its value.
 */
function synchronous(what: string, f: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function (this: unknown, ...args: unknown[]) {
    const out = f.apply(this, args);
    if (out !== null && typeof out === "object" && typeof (out as { then?: unknown }).then === "function")
      throw new UpdraftError(
        "TEMPLATE_ERROR",
        `${what} returned a Promise; templates render synchronously, so DAG macros and filters must return their value directly (fetch data in the task instead).`,
      );
    return out;
  };
}

/**
 * Renders template strings in one nunjucks environment: Airflow's filters, the DAG's own filters
 * and macros, Python's date arithmetic, and (for `renderTemplateAsNativeObj`) native values.
 */
export class TemplateRenderer {
  private readonly env: nunjucks.Environment;
  private readonly compiled = new Map<string, nunjucks.Template>();
  private readonly native: boolean;
  /** Where `{{ expr }}` hands its raw value in native mode; rendering is synchronous. */
  private captured: { value: unknown } | undefined;

  constructor(settings: TemplateSettings = {}) {
    // dev: keep the error a helper threw as the cause, to report it with its own code.
    this.env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true, dev: true });
    for (const [name, f] of Object.entries(AIRFLOW_FILTERS)) this.env.addFilter(name, f);
    for (const [name, f] of Object.entries(settings.userDefinedFilters ?? {}))
      this.env.addFilter(
        name,
        synchronous(`userDefinedFilters.${name}`, f as (...args: unknown[]) => unknown),
      );
    for (const [name, v] of Object.entries(settings.userDefinedMacros ?? {}))
      this.env.addGlobal(
        name,
        typeof v === "function"
          ? synchronous(`userDefinedMacros.${name}`, v as (...args: unknown[]) => unknown)
          : v,
      );
    this.env.addGlobal(ADD, pyAdd);
    this.env.addGlobal(SUB, pySub);
    this.env.addGlobal(NATIVE, (v: unknown) => {
      // undefined is printed as usual, so that the error names the undefined value.
      if (v === undefined) return v;
      this.captured = { value: v };
      return "";
    });
    this.native = settings.renderTemplateAsNativeObj === true;
  }

  private template(source: string, native: boolean): nunjucks.Template {
    const key = `${native ? "n" : "s"}${source}`;
    let template = this.compiled.get(key);
    if (template !== undefined) return template;
    const env = this.env as unknown as { extensionsList: unknown; asyncFilters: unknown; opts: unknown };
    const ast = rewriteArithmetic(internals.parser.parse(source, env.extensionsList, env.opts));
    const single = native ? singleOutput(ast) : undefined;
    if (single !== undefined) {
      const children = single["children"] as AstNode[];
      children[0] = call(NATIVE, children[0] as AstNode, [children[0] as AstNode]);
    }
    const compiler = new internals.compiler.Compiler(undefined, true);
    compiler.compile(transformer.transform(ast, env.asyncFilters, undefined));
    const props = new Function(compiler.getCode())() as object;
    template = new nunjucks.Template(
      { type: "code", obj: props } as unknown as string,
      this.env,
      undefined,
      true,
    );
    if (this.compiled.size >= MAX_COMPILED) this.compiled.clear();
    this.compiled.set(key, template);
    return template;
  }

  /**
   * Renders one template string to text. `field` names the template field for error messages
   * (`bashCommand`, `env.HOME`, `args[0]`).
   */
  renderString(source: string, scope: Record<string, unknown>, field: string, taskId: string): string {
    return this.run(source, scope, field, taskId, false) as string;
  }

  /**
   * Renders one template field's string: text, or with `renderTemplateAsNativeObj` the native value
   * (Jinja's NativeEnvironment: a lone `{{ expr }}` keeps its value; text that parses as a Python
   * literal becomes that value; anything else stays text).
   */
  render(source: string, scope: Record<string, unknown>, field: string, taskId: string): unknown {
    return this.run(source, scope, field, taskId, this.native);
  }

  /** nunjucks' "filter not found" as an error naming the nearest known filter (or undefined). */
  private unknownFilter(err: unknown, field: string, taskId: string): UpdraftError | undefined {
    const name = /filter not found: (\S+)/.exec(err instanceof Error ? err.message : "")?.[1];
    if (name === undefined) return undefined;
    const filters = Object.keys((this.env as unknown as { filters: Record<string, unknown> }).filters);
    const near = didYouMean(name, filters);
    return new UpdraftError(
      "TEMPLATE_ERROR",
      `Template field "${field}" of task "${taskId}": unknown filter "${name}"${near === undefined ? "" : `; did you mean ${near}?`} Airflow's filters are ${Object.keys(AIRFLOW_FILTERS).join(", ")}; add your own with the DAG's userDefinedFilters.`,
      { details: { field, filter: name } },
    );
  }

  private run(
    source: string,
    scope: Record<string, unknown>,
    field: string,
    taskId: string,
    native: boolean,
  ): unknown {
    this.captured = undefined;
    let text: string;
    let template: nunjucks.Template;
    try {
      template = this.template(source, native);
    } catch (err) {
      throw this.unknownFilter(err, field, taskId) ?? templateError(err, source, field, taskId, true);
    }
    try {
      text = template.render(scope);
    } catch (err) {
      throw this.unknownFilter(err, field, taskId) ?? templateError(err, source, field, taskId, false);
    }
    if (!native) return text;
    const captured = this.captured as { value: unknown } | undefined;
    this.captured = undefined;
    if (captured !== undefined) {
      // jinja2.nativetypes.native_concat: a single value that is not a string is returned as is.
      if (typeof captured.value !== "string") return captured.value;
      text = captured.value;
    } else if (text === "") {
      // Nothing was output at all: Jinja's native render gives None.
      return null;
    }
    const literal = pythonLiteral(text);
    return literal.ok ? literal.value : text;
  }
}

const defaultRenderer = new TemplateRenderer();
const renderers = new WeakMap<object, TemplateRenderer>();

/** The renderer of a DAG's settings, kept as long as the loaded DAG (its compiled templates with it). */
export function rendererFor(settings: TemplateSettings): TemplateRenderer {
  if (
    settings.userDefinedFilters === undefined &&
    settings.userDefinedMacros === undefined &&
    settings.renderTemplateAsNativeObj !== true
  )
    return defaultRenderer;
  let r = renderers.get(settings);
  if (r === undefined) renderers.set(settings, (r = new TemplateRenderer(settings)));
  return r;
}

/**
 * Renders one template string to text with Airflow's filters and no DAG settings. `field` names
 * the template field for error messages (`bashCommand`, `env.HOME`, `args[0]`).
 */
export function renderTemplate(
  source: string,
  scope: Record<string, unknown>,
  field: string,
  taskId: string,
): string {
  return defaultRenderer.renderString(source, scope, field, taskId);
}
