// For the few places that write HTML as a string (the Grid's cells, for speed): values escaped for
// a double-quoted attribute or text. Everything else is rendered by React, which escapes itself.
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  '"': "&quot;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&#39;",
};

/** A value made safe inside a double-quoted HTML attribute or as text. */
export function escapeAttr(value: string): string {
  // Most values (task ids, states) need nothing: no new string for them (less garbage per frame).
  return NEEDS_ESCAPE.test(value) ? value.replace(/[&"<>']/g, (ch) => ESCAPES[ch] ?? ch) : value;
}

const NEEDS_ESCAPE = /[&"<>']/;
