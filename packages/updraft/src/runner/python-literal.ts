// Python's `ast.literal_eval` of a rendered template, for `renderTemplateAsNativeObj`: Jinja's
// NativeEnvironment turns rendered text into a native value only when the text parses as a Python
// literal (numbers, strings, True/False/None, lists, tuples, dicts, sets) and leaves it a string
// otherwise. Tuples and sets become arrays and dict keys become strings, the closest JSON shapes.

/** No literal: the caller keeps the rendered string. */
const NOT_LITERAL = Symbol("not a literal");

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  /** The whole text as one literal, or NOT_LITERAL. */
  parseAll(): unknown {
    // `ast.parse(text, mode="eval")`: leading blanks are an indentation error, trailing ones are fine.
    if (/^[ \t\f]/.test(this.s)) return NOT_LITERAL;
    const first = this.value();
    if (first === NOT_LITERAL) return NOT_LITERAL;
    this.skip();
    let result = first;
    if (this.peek() === ",") {
      // A bare `1, 2` is a tuple in eval mode.
      const items: unknown[] = [first];
      while (this.eat(",")) {
        this.skip();
        if (this.i >= this.s.length) break;
        const v = this.value();
        if (v === NOT_LITERAL) return NOT_LITERAL;
        items.push(v);
        this.skip();
      }
      result = items;
    }
    this.skip();
    return this.i === this.s.length ? result : NOT_LITERAL;
  }

  private peek(): string {
    return this.s[this.i] ?? "";
  }

  private eat(ch: string): boolean {
    if (this.s.startsWith(ch, this.i)) {
      this.i += ch.length;
      return true;
    }
    return false;
  }

  /** Blanks, newlines inside brackets and `#` comments. */
  private skip(): void {
    for (;;) {
      const m = /^(?:[ \t\f\r\n]+|#[^\n]*|\\\n)/.exec(this.s.slice(this.i));
      if (m === null) return;
      this.i += m[0].length;
    }
  }

  private value(): unknown {
    this.skip();
    const ch = this.peek();
    if (ch === "-" || ch === "+") {
      // literal_eval takes one sign on a number, nothing more (`--1` is not a literal).
      this.i++;
      this.skip();
      const n = this.number();
      if (typeof n !== "number") return NOT_LITERAL;
      return ch === "-" ? -n : n;
    }
    if (ch === "[") return this.sequence("]");
    if (ch === "(") return this.sequence(")");
    if (ch === "{") return this.braces();
    if (/[0-9.]/.test(ch)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i))?.[0];
    if (word !== undefined) {
      const strPrefix =
        /^(?:[rRbBuU]|[rR][bB]|[bB][rR])$/.test(word) && /['"]/.test(this.s[this.i + word.length] ?? "");
      if (strPrefix) return this.strings();
      this.i += word.length;
      if (word === "True") return true;
      if (word === "False") return false;
      if (word === "None") return null;
      return NOT_LITERAL;
    }
    if (ch === "'" || ch === '"') return this.strings();
    return NOT_LITERAL;
  }

  private number(): unknown {
    const rest = this.s.slice(this.i);
    const m =
      /^(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*\.?(?:[eE][+-]?\d(?:_?\d)*)?)(?![\w.])/.exec(
        rest,
      );
    if (m === null) return NOT_LITERAL;
    const text = m[0].replace(/_/g, "");
    this.i += m[0].length;
    if (/^0[xob]/i.test(text)) return this.safeInt(Number(text));
    if (/[.eE]/.test(text)) return Number(text);
    // Python 3 forbids leading zeros in decimal integers (`01`): a syntax error, so no literal.
    if (/^0\d/.test(text) && !/^0+$/.test(text)) return NOT_LITERAL;
    return this.safeInt(Number(text));
  }

  /** Integers beyond 2^53 cannot be held exactly: the text stays a string rather than change value. */
  private safeInt(n: number): unknown {
    return Number.isSafeInteger(n) ? n : NOT_LITERAL;
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  private strings(): unknown {
    let out = "";
    let any = false;
    for (;;) {
      this.skip();
      const m = /^([rRbBuU]{0,2})('''|"""|'|")/.exec(this.s.slice(this.i));
      if (m === null) break;
      const prefix = (m[1] ?? "").toLowerCase();
      if (prefix.includes("f")) return NOT_LITERAL;
      const quote = m[2] ?? "'";
      this.i += m[0].length;
      const raw = prefix.includes("r");
      let text = "";
      for (;;) {
        if (this.i >= this.s.length) return NOT_LITERAL;
        if (this.s.startsWith(quote, this.i)) {
          this.i += quote.length;
          break;
        }
        const c = this.s[this.i] ?? "";
        if (c === "\n" && quote.length === 1) return NOT_LITERAL;
        if (c === "\\") {
          const next = this.s[this.i + 1] ?? "";
          if (raw) {
            text += c + next;
            this.i += 2;
            continue;
          }
          const esc = this.escape();
          if (esc === undefined) return NOT_LITERAL;
          text += esc;
          continue;
        }
        text += c;
        this.i++;
      }
      out += text;
      any = true;
    }
    return any ? out : NOT_LITERAL;
  }

  private escape(): string | undefined {
    const next = this.s[this.i + 1] ?? "";
    const simple: Record<string, string> = {
      "\n": "",
      "\\": "\\",
      "'": "'",
      '"': '"',
      a: "\x07",
      b: "\b",
      f: "\f",
      n: "\n",
      r: "\r",
      t: "\t",
      v: "\v",
    };
    const s = simple[next];
    if (s !== undefined) {
      this.i += 2;
      return s;
    }
    const hex = (len: number) => {
      const h = this.s.slice(this.i + 2, this.i + 2 + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) return undefined;
      this.i += 2 + len;
      return String.fromCodePoint(parseInt(h, 16));
    };
    if (next === "x") return hex(2);
    if (next === "u") return hex(4);
    if (next === "U") return hex(8);
    const oct = /^[0-7]{1,3}/.exec(this.s.slice(this.i + 1))?.[0];
    if (oct !== undefined) {
      this.i += 1 + oct.length;
      return String.fromCodePoint(parseInt(oct, 8));
    }
    // An unknown escape keeps its backslash in Python.
    this.i += 1;
    return "\\";
  }

  /** `[…]` or `(…)`; `(x)` is x, `(x,)` and `()` are tuples. */
  private sequence(close: string): unknown {
    this.i++;
    const items: unknown[] = [];
    let sawComma = false;
    for (;;) {
      this.skip();
      if (this.eat(close)) break;
      const v = this.value();
      if (v === NOT_LITERAL) return NOT_LITERAL;
      items.push(v);
      this.skip();
      if (this.eat(",")) {
        sawComma = true;
        continue;
      }
      if (this.eat(close)) break;
      return NOT_LITERAL;
    }
    if (close === ")" && items.length === 1 && !sawComma) return items[0];
    return items;
  }

  /** `{}` and dicts become objects; sets become arrays. */
  private braces(): unknown {
    this.i++;
    const dict: Record<string, unknown> = {};
    const set: unknown[] = [];
    let kind: "dict" | "set" | undefined;
    for (;;) {
      this.skip();
      if (this.eat("}")) break;
      const k = this.value();
      if (k === NOT_LITERAL) return NOT_LITERAL;
      this.skip();
      if (kind !== "set" && this.eat(":")) {
        kind = "dict";
        // Unhashable keys (lists, dicts) are an error in Python: no literal.
        if (k !== null && typeof k === "object") return NOT_LITERAL;
        const v = this.value();
        if (v === NOT_LITERAL) return NOT_LITERAL;
        dict[k === null ? "None" : typeof k === "boolean" ? (k ? "True" : "False") : String(k)] = v;
      } else {
        if (kind === "dict") return NOT_LITERAL;
        kind = "set";
        if (k !== null && typeof k === "object") return NOT_LITERAL;
        if (!set.includes(k)) set.push(k);
      }
      this.skip();
      if (this.eat(",")) continue;
      if (this.eat("}")) break;
      return NOT_LITERAL;
    }
    return kind === "set" ? set : dict;
  }
}

/**
 * The value of `text` as a Python literal, or `{ ok: false }` when it is not one.
 *
 * @example
 * ```ts
 * pythonLiteral("[1, 'a', None]"); // { ok: true, value: [1, "a", null] }
 * pythonLiteral("hello");          // { ok: false }
 * ```
 */
export function pythonLiteral(text: string): { ok: true; value: unknown } | { ok: false } {
  const v = new Parser(text).parseAll();
  return v === NOT_LITERAL ? { ok: false } : { ok: true, value: v };
}
