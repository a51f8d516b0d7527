// A template's failure in words: the field and task, the undefined name found by its position in
// the template, or the error a macro or filter threw, unwrapped from nunjucks' own wrapping.
import nunjucks from "nunjucks";
import { UpdraftError } from "../common/errors.js";
import type { AstNode } from "./nunjucks-ast.js";

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

/** The UpdraftError a helper (macro, accessor, filter) threw, found under nunjucks' wrapping. */
function updraftCause(err: unknown): UpdraftError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof UpdraftError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function templateError(
  err: unknown,
  source: string,
  field: string,
  taskId: string,
  compiling: boolean,
): UpdraftError {
  const cause = updraftCause(err);
  if (cause !== undefined) {
    return new UpdraftError(cause.code, `Template field "${field}" of task "${taskId}": ${cause.message}`, {
      cause,
      details: { ...cause.details, field },
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  const text = message
    .replace(/^\(unknown path\)\s*/, "")
    .replace(/\s+/g, " ")
    .trim();
  if (message.includes("attempted to output null or undefined value")) {
    const found = undefinedName(source, message);
    const what = found.name !== undefined ? `"${found.name}" is undefined` : "a value is undefined";
    return new UpdraftError(
      "TEMPLATE_UNDEFINED",
      `Template field "${field}" of task "${taskId}": ${what}${found.where}. Check the name, or give a default: {{ ${found.name ?? "value"} | default("") }}.`,
      { details: { field, ...(found.name !== undefined ? { name: found.name } : {}) } },
    );
  }
  // Syntax errors come from the parser (1-based positions) before nunjucks adds them to the message.
  const at = err as { lineno?: unknown; colno?: unknown };
  const where =
    compiling && typeof at.lineno === "number" && typeof at.colno === "number" && at.lineno > 0
      ? ` (line ${at.lineno}, column ${at.colno})`
      : "";
  return new UpdraftError(
    "TEMPLATE_ERROR",
    `Template field "${field}" of task "${taskId}" could not be rendered: ${text}${where}`,
    {
      details: { field },
    },
  );
}
