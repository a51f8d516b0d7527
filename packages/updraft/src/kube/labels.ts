import { createHash } from "node:crypto";

const MAX_LABEL = 63;

/**
 * A label value Kubernetes accepts (≤ 63 characters of [A-Za-z0-9._-], starting and ending with an
 * alphanumeric) for any string. A value that had to change gets a short hash of the original, so
 * that two different ids never share a label; the full value belongs in an annotation.
 *
 * @example labelSafe("2026-11-28T00:00:00+00:00") → "2026-11-28T00_00_00_00_00-3f2a9c1b"
 */
export function labelSafe(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  if (cleaned === value && value.length <= MAX_LABEL) return value;
  const hash = createHash("sha256").update(value).digest("hex").slice(0, 8);
  const head = cleaned.slice(0, MAX_LABEL - hash.length - 1).replace(/[^A-Za-z0-9]+$/, "");
  return head === "" ? hash : `${head}-${hash}`;
}

/**
 * A DNS-1123 name (≤ `max` characters of [a-z0-9-], alphanumeric at both ends) built from parts,
 * deterministic: the same parts give the same name, so a repeated create meets 409 AlreadyExists.
 */
export function dnsName(parts: readonly string[], max = 63): string {
  const raw = parts.join("-");
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
  const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  const head = cleaned.slice(0, max - hash.length - 1).replace(/-+$/, "");
  return head === "" ? hash : `${head}-${hash}`;
}
