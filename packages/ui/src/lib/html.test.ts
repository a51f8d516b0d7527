import { describe, expect, test } from "vitest";
import { escapeAttr } from "./html";

describe("escapeAttr", () => {
  test("markup in a value stays text inside an attribute", () => {
    const value = `x" onmouseover="alert(1)' <img src=x onerror=alert(2)> &amp;`;
    const escaped = escapeAttr(value);
    expect(escaped).toBe(
      "x&quot; onmouseover=&quot;alert(1)&#39; &lt;img src=x onerror=alert(2)&gt; &amp;amp;",
    );
    expect(escaped).not.toMatch(/["<>']/);
  });

  test("a value the browser parses back is the original", () => {
    const value = `run "1" <b>&'`;
    const decoded = escapeAttr(value).replace(/&(quot|lt|gt|#39|amp);/g, (_, e: string) =>
      e === "quot" ? '"' : e === "lt" ? "<" : e === "gt" ? ">" : e === "#39" ? "'" : "&",
    );
    expect(decoded).toBe(value);
  });
});
