// A node of nunjucks' template syntax tree, which its typings leave out: the renderer rewrites
// trees (templates.ts) and error messages find names in them (template-errors.ts).
export interface AstNode {
  typename?: string;
  lineno?: number;
  colno?: number;
  value?: unknown;
  target?: AstNode;
  val?: AstNode;
  fields?: readonly string[];
  [k: string]: unknown;
}
