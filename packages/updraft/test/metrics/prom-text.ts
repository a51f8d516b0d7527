// A parser of the Prometheus text exposition format (0.0.4), enough to read back what GET /metrics
// serves: `# TYPE` lines, samples with labels (escaped quotes, backslashes and newlines), values
// including NaN and ±Inf. It throws on a line it cannot read, so a malformed scrape fails a test.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of `name` with exactly these labels (undefined when absent). */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(v: string): number {
  // As Prometheus (Go's ParseFloat): NaN and Inf in any case (prom-client writes "Nan").
  const l = v.toLowerCase();
  if (l === "nan") return NaN;
  if (l === "+inf" || l === "inf") return Infinity;
  if (l === "-inf") return -Infinity;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`not a sample value: ${v}`);
  return n;
}

function parseLabels(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const m = LABEL.exec(body);
    if (m === null) throw new Error(`bad labels: {${body}}`);
    out[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
  }
  return out;
}

export function parsePrometheusText(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const t = /^#\s+TYPE\s+(\S+)\s+(counter|gauge|summary|histogram|untyped)$/.exec(line);
      if (t) types.set(t[1]!, t[2]!);
      else if (!/^#\s+HELP\s/.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`bad sample line: ${line}`);
    samples.push({
      name: m[1]!,
      labels: m[3] === undefined ? {} : parseLabels(m[3]),
      value: parseValue(m[4]!),
    });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    types,
    samples,
    value: (name, labels = {}) => samples.find((s) => s.name === name && same(s.labels, labels))?.value,
  };
}
