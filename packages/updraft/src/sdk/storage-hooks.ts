// Typed object-storage hooks (Airflow's S3Hook and GCSHook) for `ctx.hooks.s3()` / `ctx.hooks.gcs()`
// and the S3/GCS operators. As for the SQL and HTTP hooks (decision 0029), the SDK holds only the
// types and a lazy shell: the AWS and Google clients are loaded from src/hooks/s3.ts and
// src/hooks/gcs.ts with `await import()` on first use, each on its own so that a task using S3
// does not load the Google client, and parsing a DAG file loads neither (decision 0032).
import type { Readable } from "node:stream";
import type * as S3ModuleNs from "../hooks/s3.js";
import type * as GcsModuleNs from "../hooks/gcs.js";
import type { ConnectionAccessor } from "./context.js";

/** One object as S3 lists it (the fields Airflow's `get_file_metadata` returns). */
export interface S3ObjectInfo {
  key: string;
  size: number;
  lastModified: Date | null;
  etag: string | null;
}

/** Options of {@link S3Hook.listKeys} (Airflow's `list_keys`). */
export interface S3ListOptions {
  prefix?: string;
  /** Keys are grouped at the delimiter: only keys without it after the prefix are listed. */
  delimiter?: string;
  /** List only keys after this one. */
  startAfterKey?: string;
  /** Only objects modified at or after this time. */
  fromDatetime?: Date;
  /** Only objects modified before this time. */
  toDatetime?: Date;
  /** `prefix` is an fnmatch pattern (`*`, `?`, `[ab]`): keys are listed under its part before the first wildcard and matched. */
  applyWildcard?: boolean;
}

/** Options of the uploads ({@link S3Hook.loadString}, {@link S3Hook.loadStream}). */
export interface S3UploadOptions {
  /** Overwrite an existing key. Default false: an existing key fails with S3_KEY_EXISTS (Airflow's `replace`). */
  replace?: boolean;
  /** Server-side encryption with S3-managed keys (AES256). */
  encrypt?: boolean;
  /** A canned ACL such as `bucket-owner-full-control`. */
  aclPolicy?: string;
  contentType?: string;
}

/**
 * An S3 (or S3-compatible) store on a connection of conn_type `aws` (Airflow's S3Hook). Each
 * method takes a `bucket`; when it is omitted, `key` may be a full `s3://bucket/key` URL.
 *
 * @example
 * ```ts
 * task("count", async (ctx) => (await ctx.hooks.s3("lake").listKeys("raw", { prefix: `sales/${ctx.ds}/` })).length);
 * ```
 */
export interface S3Hook {
  readonly connId: string;
  checkForBucket(bucket: string): Promise<boolean>;
  createBucket(bucket: string, region?: string): Promise<void>;
  /** Whether the key exists (a HEAD request; a 404 is false, other errors throw). */
  checkForKey(key: string, bucket?: string): Promise<boolean>;
  /** The object's size, modification time and ETag, or null when it does not exist. */
  headObject(key: string, bucket?: string): Promise<S3ObjectInfo | null>;
  /** Keys in the bucket, all pages, filtered as `options` says. */
  listKeys(bucket: string, options?: S3ListOptions): Promise<string[]>;
  /** Objects under a prefix with their metadata (Airflow `get_file_metadata`). */
  getFileMetadata(prefix: string, bucket: string): Promise<S3ObjectInfo[]>;
  /** Common prefixes ("folders") under `prefix` at `delimiter` (Airflow `list_prefixes`). */
  listPrefixes(bucket: string, prefix?: string, delimiter?: string): Promise<string[]>;
  /** The object's content as UTF-8 text (Airflow `read_key`). */
  readKey(key: string, bucket?: string): Promise<string>;
  /** The object's content as a stream: read it piece by piece, never whole. */
  getStream(key: string, bucket?: string): Promise<Readable>;
  /** Writes a text or bytes object (Airflow `load_string`/`load_bytes`). */
  loadString(
    data: string | Uint8Array,
    key: string,
    bucket?: string,
    options?: S3UploadOptions,
  ): Promise<void>;
  /** Writes a stream as a multipart upload: memory stays at a few parts whatever the size. */
  loadStream(body: Readable, key: string, bucket?: string, options?: S3UploadOptions): Promise<void>;
  /** Server-side copy (Airflow `copy_object`); `sourceKey`/`destKey` may be `s3://` URLs. */
  copyObject(
    sourceKey: string,
    destKey: string,
    options?: {
      sourceBucket?: string;
      destBucket?: string;
      sourceVersionId?: string;
      aclPolicy?: string;
      metadataDirective?: "COPY" | "REPLACE";
    },
  ): Promise<void>;
  /** Deletes keys, 1,000 per request; a key S3 refuses fails with S3_DELETE_FAILED. */
  deleteObjects(bucket: string, keys: readonly string[]): Promise<void>;
  /** Releases the client's sockets (done at the end of the try anyway). */
  close(): Promise<void>;
}

/** Options of {@link GcsHook.uploadStream} and {@link GcsHook.upload}. */
export interface GcsUploadOptions {
  contentType?: string;
  /** Compress with gzip on the way (Airflow's `gzip`), stored with `Content-Encoding: gzip`. */
  gzip?: boolean;
}

/**
 * A Google Cloud Storage store on a connection of conn_type `google_cloud_platform` (Airflow's
 * GCSHook), or an emulator given by the extra `api_endpoint`.
 *
 * @example
 * ```ts
 * task("mirror", async (ctx) => ctx.hooks.gcs("gcp").list("archive", { prefix: "2026/" }));
 * ```
 */
export interface GcsHook {
  readonly connId: string;
  exists(bucket: string, objectName: string): Promise<boolean>;
  /** Object names, all pages (Airflow `list`). */
  list(
    bucket: string,
    options?: { prefix?: string; delimiter?: string; matchGlob?: string },
  ): Promise<string[]>;
  /** Writes a text or bytes object. */
  upload(
    bucket: string,
    objectName: string,
    data: string | Uint8Array,
    options?: GcsUploadOptions,
  ): Promise<void>;
  /** Writes a stream as a resumable upload, piece by piece. */
  uploadStream(bucket: string, objectName: string, body: Readable, options?: GcsUploadOptions): Promise<void>;
  /** The object's content (whole, in memory: for small objects). */
  download(bucket: string, objectName: string): Promise<Buffer>;
  /** The object's content as a stream. */
  getStream(bucket: string, objectName: string): Promise<Readable>;
  delete(bucket: string, objectName: string): Promise<void>;
  createBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

/** @internal */
export type S3HookImpl = Omit<S3Hook, "connId">;
/** @internal */
export type GcsHookImpl = Omit<GcsHook, "connId">;

let s3Module: Promise<typeof S3ModuleNs> | null = null;
let gcsModule: Promise<typeof GcsModuleNs> | null = null;
/** @internal Loads src/hooks/s3.ts (and the AWS client) once per process. */
export function loadS3Hooks(): Promise<typeof S3ModuleNs> {
  s3Module ??= import("../hooks/s3.js");
  return s3Module;
}
/** @internal Loads src/hooks/gcs.ts (and the Google client) once per process. */
export function loadGcsHooks(): Promise<typeof GcsModuleNs> {
  gcsModule ??= import("../hooks/gcs.js");
  return gcsModule;
}

type Session = { close(): Promise<void> };

/**
 * @internal A hook whose every method first opens the real one (connection read, client module
 * loaded) and registers it in `open`, so that the runner closes it when the try ends.
 */
function lazyHook<T extends Session>(
  open: Set<Session>,
  openImpl: () => Promise<T>,
  methods: readonly (keyof T & string)[],
): T {
  let impl: Promise<T> | null = null;
  const get = () =>
    (impl ??= openImpl().then((s) => {
      open.add(s);
      return s;
    }));
  const out: Record<string, unknown> = {};
  for (const m of methods)
    out[m] = async (...args: unknown[]) => {
      const s = await get();
      return (s[m] as (...a: unknown[]) => unknown)(...args);
    };
  out["close"] = async () => {
    if (impl === null) return;
    const s = await impl;
    impl = null;
    open.delete(s);
    await s.close();
  };
  return out as T;
}

const S3_METHODS = [
  "checkForBucket",
  "createBucket",
  "checkForKey",
  "headObject",
  "listKeys",
  "getFileMetadata",
  "listPrefixes",
  "readKey",
  "getStream",
  "loadString",
  "loadStream",
  "copyObject",
  "deleteObjects",
] as const satisfies readonly (keyof S3HookImpl)[];

const GCS_METHODS = [
  "exists",
  "list",
  "upload",
  "uploadStream",
  "download",
  "getStream",
  "delete",
  "createBucket",
] as const satisfies readonly (keyof GcsHookImpl)[];

/** @internal `ctx.hooks.s3(connId)`. */
export function lazyS3Hook(conn: ConnectionAccessor, open: Set<Session>, connId: string): S3Hook {
  const hook = lazyHook<S3HookImpl>(
    open,
    async () => {
      const [c, impl] = await Promise.all([conn.get(connId), loadS3Hooks()]);
      return impl.openS3(c);
    },
    S3_METHODS,
  );
  return Object.assign(hook, { connId });
}

/** @internal `ctx.hooks.gcs(connId)`. */
export function lazyGcsHook(conn: ConnectionAccessor, open: Set<Session>, connId: string): GcsHook {
  const hook = lazyHook<GcsHookImpl>(
    open,
    async () => {
      const [c, impl] = await Promise.all([conn.get(connId), loadGcsHooks()]);
      return impl.openGcs(c);
    },
    GCS_METHODS,
  );
  return Object.assign(hook, { connId });
}
