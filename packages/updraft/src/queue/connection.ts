// Redis connection options from `queue.*`: the QueueExecutor, the workers and the API server (the
// workers' list) all connect the same way. A malformed URL is refused with a message that never
// echoes the password.
import { readFileSync } from "node:fs";
import type { RedisOptions } from "ioredis";
import { UpdraftError } from "../common/errors.js";

/** The `queue` section of the configuration, as this module needs it. */
export interface QueueSettings {
  broker_url: string;
  key_prefix: string;
  tls_ca_file: string | null;
  tls_cert_file: string | null;
  tls_key_file: string | null;
  tls_reject_unauthorized: boolean;
}

/** The URL with any password replaced by `***`, for messages and logs. */
export function redactBrokerUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/i, "$1***@");
}

function invalid(url: string, why: string): UpdraftError {
  return new UpdraftError(
    "QUEUE_BROKER_URL_INVALID",
    `queue.broker_url "${redactBrokerUrl(url)}" ${why}: write it as redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://… for TLS (UPDRAFT__QUEUE__BROKER_URL).`,
  );
}

function readPem(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UpdraftError(
      "QUEUE_BROKER_URL_INVALID",
      `queue.${setting} names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}): point it at a PEM file.`,
    );
  }
}

/**
 * ioredis options for `queue.broker_url`. `maxRetriesPerRequest: null` because BullMQ's blocking
 * connections require it; reconnection backs off up to 2 s and never gives up (a Redis restart is
 * survived, not fatal).
 */
export function redisOptions(settings: QueueSettings): RedisOptions {
  const raw = settings.broker_url.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(raw, "is not a URL");
  }
  const tls = url.protocol === "rediss:";
  if (url.protocol !== "redis:" && !tls) throw invalid(raw, `has the scheme "${url.protocol}"`);
  if (url.hostname === "") throw invalid(raw, "names no host");
  const port = url.port === "" ? 6379 : Number(url.port);
  const dbPath = url.pathname.replace(/^\//, "");
  const db = dbPath === "" ? 0 : Number(dbPath);
  if (!Number.isInteger(db) || db < 0) throw invalid(raw, `names the database "${dbPath}"`);
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    db,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    connectionName: "updraft",
  };
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  if (tls) {
    options.tls = {
      rejectUnauthorized: settings.tls_reject_unauthorized,
      ...(settings.tls_ca_file === null ? {} : { ca: readPem(settings.tls_ca_file, "tls_ca_file") }),
      ...(settings.tls_cert_file === null ? {} : { cert: readPem(settings.tls_cert_file, "tls_cert_file") }),
      ...(settings.tls_key_file === null ? {} : { key: readPem(settings.tls_key_file, "tls_key_file") }),
    };
  }
  return options;
}

/**
 * Task queue names become BullMQ queue names and Redis keys: letters, digits, `_`, `-` and `.`
 * only (BullMQ refuses `:`), at most 100 characters.
 */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
