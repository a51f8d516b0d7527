// TypeScript highlighting for the Code tab: Prism tokenizes the source and the tab renders the
// tokens as React elements (never innerHTML: the source is user-written text). The tokens are cut
// at line breaks so that each line is a row with its number.
import Prism from "prismjs";
import "prismjs/components/prism-typescript";

/** A run of text and the token classes it has (outermost first), e.g. ["string"]. */
export interface Piece {
  text: string;
  classes: string[];
}

function flatten(tokens: (string | Prism.Token)[], classes: string[], out: Piece[]): void {
  for (const t of tokens) {
    if (typeof t === "string") {
      out.push({ text: t, classes });
      continue;
    }
    const alias = t.alias === undefined ? [] : Array.isArray(t.alias) ? t.alias : [t.alias];
    const inner = [...classes, t.type, ...alias];
    if (typeof t.content === "string") out.push({ text: t.content, classes: inner });
    else if (Array.isArray(t.content)) flatten(t.content, inner, out);
    else flatten([t.content], inner, out);
  }
}

/** The source as lines of pieces. */
export function highlightLines(source: string): Piece[][] {
  const grammar = Prism.languages["typescript"];
  const pieces: Piece[] = [];
  if (grammar === undefined) pieces.push({ text: source, classes: [] });
  else flatten(Prism.tokenize(source, grammar), [], pieces);
  const lines: Piece[][] = [[]];
  for (const p of pieces) {
    const parts = p.text.split("\n");
    parts.forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part !== "") lines[lines.length - 1]?.push({ text: part, classes: p.classes });
    });
  }
  if (lines.length > 1 && lines[lines.length - 1]?.length === 0) lines.pop();
  return lines;
}
