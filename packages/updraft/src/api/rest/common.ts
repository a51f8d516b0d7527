import type { FastifyRequest } from "fastify";
import { z } from "zod";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** An id in a path or body: 1–250 characters, no control characters (NUL can never be stored). */
export const Id = z
  .string()
  .min(1)
  .max(250)
  .refine((s) => !CONTROL.test(s), { message: "must not contain control characters" });

/** Free text that will be stored: no NUL. */
export const Text = z
  .string()
  .refine((s) => !s.includes("\u0000"), { message: "must not contain NUL characters" });

/**
 * `limit` (default 100) and `offset`, as Airflow's list routes. The server caps `limit` at
 * webserver.maximum_page_limit after validation (api/page-limit.ts), in one place for every list.
 */
export const Page = z.object({
  limit: z.coerce.number().int().min(1).default(100),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
});

export const DateTime = z.iso.datetime({ offset: true });

export const DagPath = z.object({ dag_id: Id });
export const RunPath = z.object({ dag_id: Id, dag_run_id: Id });
export const TiPath = RunPath.extend({ task_id: Id });

/** A map index in a path or query string (-1: the task is not mapped), coerced from text. */
export const MapIndexParam = z.coerce
  .number()
  .int()
  .min(-1)
  .max(2 ** 31 - 1);

/**
 * The list shape of Airflow's collections: `{ <name>: [...], total_entries }`, registered under
 * `id` so that the OpenAPI document names it.
 */
export function collection<N extends string, T extends z.ZodType>(name: N, item: T, id: string) {
  return z
    .object({ [name]: z.array(item), total_entries: z.number().int() } as { [K in N]: z.ZodArray<T> } & {
      total_entries: z.ZodNumber;
    })
    .meta({ id });
}

/**
 * A route's schema with its OpenAPI names: `operationId` is Airflow's, so that clients generated
 * for Airflow's API find the same operations.
 */
export function route<S extends object>(operationId: string, summary: string, tags: string[], schema: S) {
  return { schema: { operationId, summary, tags, ...schema } };
}

/** Who made a change, for the audit log (Airflow's event log `owner`): the authenticated user. */
export function actor(request: FastifyRequest): string {
  return request.principal?.username ?? "anonymous";
}

/**
 * Airflow's `order_by`: one of `columns`' names, `-name` for descending. The schema accepts
 * exactly those (anything else is a 400 naming them); {@link sortOf} maps a value to its column.
 */
export function orderBy<M extends Record<string, string>>(columns: M, fallback: keyof M & string) {
  const names = Object.keys(columns).flatMap((k) => [k, `-${k}`]) as [string, ...string[]];
  return z.enum(names).default(fallback);
}

/** The column and direction an `order_by` value names. */
export function sortOf<M extends Record<string, string>>(
  columns: M,
  value: string,
): { column: M[keyof M]; direction: "asc" | "desc" } {
  return {
    column: columns[value.replace(/^-/, "") as keyof M] as M[keyof M],
    direction: value.startsWith("-") ? "desc" : "asc",
  };
}
