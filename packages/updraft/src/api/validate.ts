import type { z } from "zod";
import { UpdraftError } from "../common/errors.js";

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join(".") : "(root)"}: ${i.message}`);
}

/** Parses a request body: REQUEST_INVALID (422) listing every problem. */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = describeIssues(r.error);
  throw new UpdraftError("REQUEST_INVALID", `The request body is invalid:\n- ${problems.join("\n- ")}`, {
    details: { problems },
  });
}

/** Parses path or query parameters: PARAMETER_INVALID (400) listing every problem. */
export function parseParams<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = describeIssues(r.error);
  throw new UpdraftError("PARAMETER_INVALID", `Invalid request parameters:\n- ${problems.join("\n- ")}`, {
    details: { problems },
  });
}
