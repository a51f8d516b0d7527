// The name of a mapped task instance from its mapIndexTemplate (Airflow's _render_map_index),
// rendered after the body, which may add to its context.
import type { TaskContext } from "../sdk/context.js";
import type { TryLog } from "./finish.js";
import type { TemplateRenderer } from "./templates.js";

/** Airflow's rendered_map_index column holds 250 characters. */
const MAX_RENDERED_MAP_INDEX = 250;

/** What mapIndexTemplate renders with, once the fields are resolved. */
export interface MapIndexTemplate {
  template: string;
  ctx: TaskContext;
  scope: Record<string, unknown> | null;
  fields: Record<string, unknown>;
  renderer: TemplateRenderer;
}

/**
 * What mapIndexTemplate sees: the template context, the task's resolved fields (the mapped
 * arguments) under `task`, and what the body added to its context (Airflow's documented way:
 * `context["name"] = ...` then `map_index_template="{{ name }}"`). Built when rendered, after the body.
 */
function mapIndexScope(
  ctx: TaskContext,
  scope: Record<string, unknown> | null,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const base = scope ?? {};
  const taskInfo = (base["task"] ?? ctx.task) as Record<string, unknown>;
  return { ...ctx, ...base, task: { ...taskInfo, ...fields } };
}

/** The instance's name from mapIndexTemplate, or null without one; its errors are the caller's. */
export function renderMapIndex(m: MapIndexTemplate | null, taskId: string, log: TryLog): string | null {
  if (m === null) return null;
  const { template, ctx, scope, fields, renderer } = m;
  // With the DAG's own macros and filters, as every other template of the task.
  const text = renderer.renderString(template, mapIndexScope(ctx, scope, fields), "mapIndexTemplate", taskId);
  log("INFO", `Map index rendered as ${text}`);
  return text.length > MAX_RENDERED_MAP_INDEX ? text.slice(0, MAX_RENDERED_MAP_INDEX) : text;
}

/** After a failure or skip the name is still rendered, its own errors ignored (they would hide the task's). */
export function renderMapIndexQuietly(
  m: MapIndexTemplate | null,
  taskId: string,
  log: TryLog,
): { rendered_map_index?: string } {
  try {
    const rendered = renderMapIndex(m, taskId, log);
    return rendered === null ? {} : { rendered_map_index: rendered };
  } catch {
    return {};
  }
}
