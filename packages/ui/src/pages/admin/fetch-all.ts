// Every item of a small paged collection (variables, connections, pools, users): the server
// pages at webserver.maximum_page_limit, and the Admin lists search and page on the client.
const PAGE = 100;
const MAX_ITEMS = 10_000;

export async function fetchAll<T>(
  page: (offset: number, limit: number) => Promise<{ items: T[]; total: number }>,
) {
  const out: T[] = [];
  for (;;) {
    const { items, total } = await page(out.length, PAGE);
    out.push(...items);
    if (items.length === 0 || out.length >= total || out.length >= MAX_ITEMS) return out;
  }
}

/** A JSON object or array in a string, pretty-printed; null when the string is not one. */
export function prettyJson(value: string | null): string | null {
  if (value === null) return null;
  const t = value.trim();
  if (!(t.startsWith("{") || t.startsWith("["))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}
