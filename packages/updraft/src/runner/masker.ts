// Replaces secrets with *** in everything a try writes where people can read it: its log, its
// error message, its rendered fields (RELIABILITY.md item 22).

/** Values this short are too likely to be ordinary text ("true", "1234") to mask everywhere. */
const MIN_SECRET_LENGTH = 4;

/** Variable keys whose values are secrets, as in Airflow's `sensitive_var_conn_names`. */
const SENSITIVE_KEY = /password|passwd|secret|token|api_key|apikey|private_key|access_key|credential/i;

export const MASK = "***";

/** True when a variable or field named `key` holds a secret. */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class SecretMasker {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null = null;

  /** Adds a secret, and the forms it takes inside JSON and URLs. */
  add(secret: string | null | undefined): void {
    if (typeof secret !== "string" || secret.length < MIN_SECRET_LENGTH) return;
    const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
    // Multi-line secrets (keys, certificates) are masked line by line too, since logs are written by line.
    if (secret.includes("\n"))
      for (const line of secret.split("\n")) if (line.trim().length >= MIN_SECRET_LENGTH) forms.add(line);
    let changed = false;
    for (const f of forms) {
      if (!this.secrets.has(f)) {
        this.secrets.add(f);
        changed = true;
      }
    }
    if (changed) this.pattern = null;
  }

  get size(): number {
    return this.secrets.size;
  }

  mask(text: string): string {
    if (this.secrets.size === 0) return text;
    // Longest first, so that a secret containing another is masked whole.
    this.pattern ??= new RegExp(
      [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join("|"),
      "g",
    );
    return text.replace(this.pattern, MASK);
  }

  /** A deep copy with every string masked (for rendered fields and JSON payloads). */
  maskDeep(value: unknown): unknown {
    if (this.secrets.size === 0) return value;
    if (typeof value === "string") return this.mask(value);
    if (Array.isArray(value)) return value.map((v) => this.maskDeep(v));
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value))
        out[k] = isSensitiveKey(k) && typeof v === "string" ? MASK : this.maskDeep(v);
      return out;
    }
    return value;
  }
}
