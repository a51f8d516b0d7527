// `{{ ti.xcom_pull(task_ids='x', key='k') }}` and `{{ task_instance.xcom_pull('x') }}` in templates,
// as Airflow users write them. nunjucks renders synchronously and XComs come over the execution
// API, so — as for `var` and `conn` — the calls a template makes are found in its syntax tree
// before rendering, fetched, and answered from that table while rendering (decision 0033). A call
// whose arguments are not literals cannot be known in advance and fails with what to write instead.
import nunjucks from "nunjucks";
import { UpdraftError } from "../common/errors.js";
import type { TaskContext, TaskInstanceInfo } from "../sdk/context.js";

/** One xcom_pull call's arguments (Airflow's names), normalized. */
export interface XComCall {
  task_ids: string | string[] | null;
  key: string;
  map_indexes: number | number[] | null;
  dag_id: string | null;
  run_id: string | null;
  default: unknown;
}

interface AstNode {
  typename?: string;
  value?: unknown;
  fields?: readonly string[];
  [k: string]: unknown;
}

const NO_LITERAL = Symbol("not a literal");
const POSITIONAL = ["task_ids", "dag_id", "key", "include_prior_dates"] as const;
const KNOWN = new Set([
  "task_ids",
  "dag_id",
  "key",
  "include_prior_dates",
  "map_indexes",
  "default",
  "run_id",
]);

function literal(node: AstNode | undefined): unknown {
  if (node === undefined) return NO_LITERAL;
  if (node.typename === "Literal") return node.value;
  if (node.typename === "Array") {
    const items = ((node["children"] as AstNode[] | undefined) ?? []).map(literal);
    return items.includes(NO_LITERAL) ? NO_LITERAL : items;
  }
  // `None`, `True`, `False` parse as symbols in nunjucks (Python spellings).
  if (node.typename === "Symbol") {
    if (node.value === "None" || node.value === "none") return null;
    if (node.value === "True" || node.value === "true") return true;
    if (node.value === "False" || node.value === "false") return false;
  }
  return NO_LITERAL;
}

/** The call as written: positional values and keyword values, or undefined if one is not a literal. */
function argsOf(call: AstNode): Record<string, unknown> | undefined {
  const list = ((call["args"] as AstNode | undefined)?.["children"] as AstNode[] | undefined) ?? [];
  const out: Record<string, unknown> = {};
  let position = 0;
  for (const arg of list) {
    if (arg.typename === "KeywordArgs") {
      for (const pair of (arg["children"] as AstNode[] | undefined) ?? []) {
        const name = String((pair["key"] as AstNode).value);
        const v = literal(pair["value"] as AstNode);
        if (v === NO_LITERAL) return undefined;
        out[name] = v;
      }
    } else {
      const v = literal(arg);
      if (v === NO_LITERAL) return undefined;
      out[POSITIONAL[position++] ?? `#${position}`] = v;
    }
  }
  return out;
}

function isXComPull(node: AstNode): boolean {
  if (node.typename !== "FunCall") return false;
  const name = node["name"] as AstNode | undefined;
  if (name?.typename !== "LookupVal") return false;
  const target = name["target"] as AstNode | undefined;
  const val = name["val"] as AstNode | undefined;
  return (
    target?.typename === "Symbol" &&
    (target.value === "ti" || target.value === "task_instance") &&
    val?.value === "xcom_pull"
  );
}

function normalize(raw: Record<string, unknown>, where: string): XComCall {
  for (const name of Object.keys(raw))
    if (!KNOWN.has(name))
      throw new UpdraftError(
        "TEMPLATE_ERROR",
        `${where}: xcom_pull has no argument "${name}"; it takes task_ids, key, map_indexes, default (and dag_id/run_id of this run).`,
      );
  if (raw["include_prior_dates"] === true)
    throw new UpdraftError(
      "TEMPLATE_ERROR",
      `${where}: xcom_pull(include_prior_dates=True) is not supported; a task reads XComs of its own run.`,
    );
  const ids = raw["task_ids"];
  const mapIndexes = raw["map_indexes"];
  const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
  return {
    task_ids: Array.isArray(ids) ? ids.map(String) : str(ids),
    key: str(raw["key"]) ?? "return_value",
    map_indexes: Array.isArray(mapIndexes)
      ? mapIndexes.map(Number)
      : mapIndexes === undefined || mapIndexes === null
        ? null
        : Number(mapIndexes),
    dag_id: str(raw["dag_id"]),
    run_id: str(raw["run_id"]),
    default: raw["default"] ?? null,
  };
}

function callKey(c: XComCall): string {
  return JSON.stringify([c.task_ids, c.key, c.map_indexes, c.dag_id, c.run_id, c.default]);
}

/** The xcom_pull calls with literal arguments in these template sources. */
export function xcomCalls(sources: Iterable<string>): XComCall[] {
  const found = new Map<string, XComCall>();
  const parser = (nunjucks as unknown as { parser: { parse(src: string): AstNode } }).parser;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== "object" || !("typename" in v)) return;
    const n = v as AstNode;
    if (isXComPull(n)) {
      const raw = argsOf(n);
      if (raw !== undefined) {
        try {
          const c = normalize(raw, "xcom_pull");
          found.set(callKey(c), c);
        } catch {
          // Reported with the field's name when the template renders.
        }
      }
    }
    for (const f of n.fields ?? []) visit(n[f]);
    if (Array.isArray(n["children"]) && !(n.fields ?? []).includes("children")) visit(n["children"]);
  };
  for (const s of sources) {
    if (!s.includes("xcom_pull")) continue;
    try {
      visit(parser.parse(s));
    } catch {
      // A syntax error is reported by the renderer, with its position.
    }
  }
  return [...found.values()];
}

/** Answers of the calls, fetched before rendering: call key → value. */
export type FetchedXComs = ReadonlyMap<string, unknown>;

/** Fetches what each call returns, as Airflow's `TaskInstance.xcom_pull` would. */
export async function fetchXComs(calls: readonly XComCall[], ctx: TaskContext): Promise<FetchedXComs> {
  const out = new Map<string, unknown>();
  await Promise.all(
    calls.map(async (c) => {
      if (c.task_ids === null) return; // reported when rendered
      if (
        (c.dag_id !== null && c.dag_id !== ctx.dag.dag_id) ||
        (c.run_id !== null && c.run_id !== ctx.run_id)
      )
        return; // reported when rendered
      const one = async (taskId: string): Promise<unknown> => {
        const pull = (mapIndex?: number) =>
          ctx.ti.xcomPull(taskId, { key: c.key, ...(mapIndex !== undefined ? { mapIndex } : {}) });
        if (Array.isArray(c.map_indexes)) return Promise.all(c.map_indexes.map((i) => pull(i)));
        return pull(c.map_indexes ?? undefined);
      };
      const value = Array.isArray(c.task_ids)
        ? await Promise.all(c.task_ids.map(one))
        : ((await one(c.task_ids)) ?? c.default);
      out.set(callKey(c), value === undefined ? c.default : value);
    }),
  );
  return out;
}

/** The `ti` templates see: the task instance, with a synchronous `xcom_pull` over the fetched table. */
export function templateTaskInstance(ti: TaskInstanceInfo, fetched: FetchedXComs): object {
  const xcom_pull = (...args: unknown[]): unknown => {
    const raw: Record<string, unknown> = {};
    let position = 0;
    for (const a of args) {
      if (a !== null && typeof a === "object" && (a as Record<string, unknown>)["__keywords"] === true) {
        for (const [k, v] of Object.entries(a)) if (k !== "__keywords") raw[k] = v;
      } else raw[POSITIONAL[position++] ?? `#${position}`] = a;
    }
    const c = normalize(raw, "ti.xcom_pull");
    if (c.task_ids === null)
      throw new UpdraftError(
        "TEMPLATE_ERROR",
        "ti.xcom_pull needs task_ids: name the task(s) whose XCom to read, e.g. ti.xcom_pull(task_ids='extract').",
      );
    if ((c.dag_id !== null && c.dag_id !== ti.dag_id) || (c.run_id !== null && c.run_id !== ti.run_id))
      throw new UpdraftError(
        "TEMPLATE_ERROR",
        "ti.xcom_pull reads XComs of this DAG run only; use ExternalTaskSensor or the other DAG's output another way.",
      );
    const key = callKey(c);
    if (!fetched.has(key))
      throw new UpdraftError(
        "TEMPLATE_XCOM_NOT_FETCHED",
        `ti.xcom_pull(${JSON.stringify(c.task_ids)}, key=${JSON.stringify(c.key)}) was not fetched before rendering: write its arguments as literals (task_ids='extract', key='rows') so that the runner can read the XCom first.`,
      );
    return fetched.get(key);
  };
  return { ...ti, xcom_pull };
}
