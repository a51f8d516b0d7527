// Template lookups are synchronous (nunjucks renders without awaiting): the variables, connections
// and XComs the task's templates name are fetched before any of them renders, all at once.
import type { BaseOperator } from "../sdk/base-operator.js";
import type { TaskContext } from "../sdk/context.js";
import { readConnection, readVariable, type ContextInput } from "./context.js";
import { templateSources } from "./resolve-fields.js";
import { fetchXComs, xcomCalls, type FetchedXComs } from "./template-xcom.js";
import { templateNeeds, templateScope } from "./templates.js";

/** The scope the task's templates (its fields and mapIndexTemplate) render in; null when it has none. */
export async function fetchTemplateScope(
  task: BaseOperator,
  input: ContextInput,
  ctx: TaskContext,
): Promise<Record<string, unknown> | null> {
  const mapIndexTemplate = task.options.mapIndexTemplate;
  const sources = [...templateSources(task), ...(mapIndexTemplate === undefined ? [] : [mapIndexTemplate])];
  if (sources.length === 0) return null;
  const needs = templateNeeds(sources);
  let xcoms: FetchedXComs = new Map();
  const variables = new Map<string, string>();
  const connections = new Map<string, Awaited<ReturnType<typeof readConnection>> & object>();
  await Promise.all([
    (async () => {
      xcoms = await fetchXComs(xcomCalls(sources), ctx);
    })(),
    ...[...needs.variables].map(async (k) => {
      const v = await readVariable(input, k);
      if (v !== undefined) variables.set(k, v);
    }),
    ...[...needs.connections].map(async (k) => {
      const c = await readConnection(input, k);
      if (c !== undefined) connections.set(k, c);
    }),
  ]);
  return templateScope(ctx, variables, connections, needs, xcoms);
}
