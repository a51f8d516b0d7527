/** Key names whose values are secrets (Airflow's DEFAULT_SENSITIVE_FIELDS). */
const SENSITIVE = [
  "access_token",
  "api_key",
  "apikey",
  "authorization",
  "passphrase",
  "passwd",
  "password",
  "private_key",
  "secret",
  "token",
  "keyfile_dict",
  "service_account",
];

/** Whether a variable or extra key names a secret (case-insensitive substring, as Airflow). */
export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase();
  return SENSITIVE.some((s) => k.includes(s));
}

export const REDACTED = "***";

/** A JSON value with the values of sensitive keys replaced, recursively. */
export function redactSensitive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSensitive);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = isSensitiveKey(k) && v !== null ? REDACTED : redactSensitive(v);
    return out;
  }
  return value;
}
