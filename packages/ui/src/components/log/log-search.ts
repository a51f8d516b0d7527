// Searching a log: which lines hold the query (case-insensitive), and a line cut into plain and
// matching pieces for highlighting. Pieces are strings rendered as text nodes, never HTML.

/** Indexes of the lines that contain `query` (in any case), in order. */
export function matchingLines(lines: readonly string[], count: number, query: string): number[] {
  if (query === "") return [];
  // A case-insensitive expression rather than toLowerCase on each line: no copy of a 50 MB log.
  const re = new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (re.test(lines[i] ?? "")) out.push(i);
  return out;
}

export interface Piece {
  text: string;
  match: boolean;
}

/** `line` cut around each occurrence of `query` (lower-cased). */
export function pieces(line: string, query: string): Piece[] {
  if (query === "") return [{ text: line, match: false }];
  const lower = line.toLowerCase();
  const out: Piece[] = [];
  let at = 0;
  for (let i = lower.indexOf(query); i !== -1; i = lower.indexOf(query, at)) {
    if (i > at) out.push({ text: line.slice(at, i), match: false });
    out.push({ text: line.slice(i, i + query.length), match: true });
    at = i + query.length;
  }
  if (at < line.length) out.push({ text: line.slice(at), match: false });
  return out;
}

/** "error" or "warn" for lines worth a tint, judged on the line's start (where the level is). */
export function lineLevel(line: string): "error" | "warn" | null {
  const head = line.slice(0, 200);
  if (/\b(ERROR|CRITICAL|FATAL)\b|^Traceback|^\s*at .+:\d+:\d+\)?$/.test(head)) return "error";
  if (/\bWARN(ING)?\b/.test(head)) return "warn";
  return null;
}
