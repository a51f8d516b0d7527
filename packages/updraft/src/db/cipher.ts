import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { UpdraftError } from "../common/errors.js";

/** Encrypts secrets at rest (connection passwords and extras, variables). */
export interface Cipher {
  /** Whether a key is configured; without one, `encrypt` throws CONNECTION_KEY_MISSING. */
  readonly hasKey: boolean;
  encrypt(plaintext: string): string;
  decrypt(stored: string): string;
}

const PREFIX = "v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

function missing(): UpdraftError {
  return new UpdraftError(
    "CONNECTION_KEY_MISSING",
    "No encryption key is configured, so secrets cannot be stored or read. Set core.fernet_key (env UPDRAFT__CORE__FERNET_KEY) to 32 random bytes in url-safe base64, e.g. the output of `node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\"`, and keep it: data encrypted with it cannot be read without it.",
  );
}

function invalid(reason: string): UpdraftError {
  return new UpdraftError(
    "CONNECTION_KEY_INVALID",
    `${reason} Check core.fernet_key (env UPDRAFT__CORE__FERNET_KEY): it must be the key the secrets were stored with (32 bytes in url-safe base64; when rotating, list the new key first and the old one after a comma).`,
  );
}

function deriveKey(text: string): Buffer {
  const raw = Buffer.from(text.trim(), "base64url");
  if (raw.length !== 32) {
    throw invalid(`A key in core.fernet_key decodes to ${raw.length} bytes instead of 32.`);
  }
  // A fresh AES key from the configured one, so the same secret never keys two algorithms.
  return Buffer.from(hkdfSync("sha256", raw, Buffer.alloc(0), "updraft-secrets-aes-256-gcm", 32));
}

/**
 * An AES-256-GCM cipher keyed from `core.fernet_key`. Several comma-separated keys allow
 * rotation: the first encrypts, each is tried to decrypt.
 *
 * @example
 * ```ts
 * const cipher = createCipher(config.core.fernet_key);
 * ```
 */
export function createCipher(fernetKey: string | null | undefined): Cipher {
  const texts = (fernetKey ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  const keys = texts.map(deriveKey);
  const first = keys[0];
  return {
    hasKey: first !== undefined,
    encrypt(plaintext) {
      if (first === undefined) throw missing();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", first, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    decrypt(stored) {
      if (keys.length === 0) throw missing();
      if (!stored.startsWith(PREFIX)) throw invalid("A stored secret is not in Updraft's encrypted format.");
      const data = Buffer.from(stored.slice(PREFIX.length), "base64url");
      const iv = data.subarray(0, IV_BYTES);
      const tag = data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      const body = data.subarray(IV_BYTES + TAG_BYTES);
      for (const key of keys) {
        try {
          const decipher = createDecipheriv("aes-256-gcm", key, iv);
          decipher.setAuthTag(tag);
          return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
        } catch {
          // Wrong key (authentication failed): try the next one.
        }
      }
      throw invalid("A stored secret cannot be decrypted with the configured key.");
    },
  };
}

/** A new random key for core.fernet_key. */
export function generateFernetKey(): string {
  return randomBytes(32).toString("base64url");
}
