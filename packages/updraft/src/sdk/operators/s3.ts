// Airflow's S3 operators (amazon provider): create, copy, delete and list objects. Each opens its
// own S3 session on the `aws` connection inside `execute` and closes it before returning; the
// AWS client is loaded only then (decision 0032).
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { loadS3Hooks, type S3HookImpl } from "../storage-hooks.js";
import { pick } from "./sql.js";

/** @internal Runs `fn` with an S3 session on connection `connId`, closed afterwards. */
export async function withS3<T>(
  input: ExecuteInput,
  connId: unknown,
  fn: (hook: S3HookImpl) => Promise<T>,
): Promise<T> {
  const id = typeof connId === "string" && connId !== "" ? connId : "aws_default";
  const [conn, impl] = await Promise.all([input.ctx.conn.get(id), loadS3Hooks()]);
  const hook = impl.openS3(conn);
  try {
    return await fn(hook);
  } finally {
    await hook.close();
  }
}

const opt = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const text = (v: unknown): string =>
  typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);

/** Options every S3 operator takes. */
interface S3Common extends TaskOptions {
  taskId: string;
  /** The connection (conn_type `aws`). Default `aws_default`; templated. */
  awsConnId?: string;
}

/** Options of {@link S3CreateObjectOperator}. */
export interface S3CreateObjectOperatorOptions extends S3Common {
  /** Templated; may be omitted when `s3Key` is a full `s3://bucket/key` URL. */
  s3Bucket?: string;
  /** Templated. */
  s3Key: string;
  /** The content as text (templated). */
  data: string;
  /** Overwrite an existing key. Default false: an existing key fails the task. */
  replace?: boolean;
  /** Server-side encryption (AES256). */
  encrypt?: boolean;
  /** Canned ACL, e.g. `bucket-owner-full-control`. */
  aclPolicy?: string;
}

/**
 * Writes an object from text or bytes (Airflow's `S3CreateObjectOperator`).
 *
 * @example
 * ```ts
 * new S3CreateObjectOperator({ taskId: "marker", awsConnId: "lake", s3Bucket: "raw", s3Key: "sales/{{ ds }}/_READY", data: "{{ run_id }}" });
 * ```
 */
export class S3CreateObjectOperator extends BaseOperator {
  readonly operatorName = "S3CreateObjectOperator";
  readonly templateFields = ["s3Bucket", "s3Key", "data", "awsConnId"] as const;
  constructor(options: S3CreateObjectOperatorOptions) {
    const names = ["awsConnId", "s3Bucket", "s3Key", "data", "replace", "encrypt", "aclPolicy"] as const;
    super(options, pick(options, names), names);
  }
  async execute(input: ExecuteInput): Promise<unknown> {
    const f = input.fields;
    const data = text(f.data);
    await withS3(input, f.awsConnId, (s3) =>
      s3.loadString(data, text(f.s3Key), opt(f.s3Bucket), {
        replace: f.replace === true,
        encrypt: f.encrypt === true,
        ...(opt(f.aclPolicy) === undefined ? {} : { aclPolicy: text(f.aclPolicy) }),
      }),
    );
    console.log(
      `Wrote ${Buffer.byteLength(data)} bytes to ${opt(f.s3Bucket) === undefined ? text(f.s3Key) : `s3://${text(f.s3Bucket)}/${text(f.s3Key)}`}`,
    );
    return undefined;
  }
}

/** Options of {@link S3CopyObjectOperator}. */
export interface S3CopyObjectOperatorOptions extends S3Common {
  /** Templated; a key, or `s3://bucket/key` without `sourceBucketName`. */
  sourceBucketKey: string;
  /** Templated; a key, or `s3://bucket/key` without `destBucketName`. */
  destBucketKey: string;
  sourceBucketName?: string;
  destBucketName?: string;
  sourceVersionId?: string;
  aclPolicy?: string;
  /** `COPY` (default: the source's metadata) or `REPLACE`. */
  metaDataDirective?: "COPY" | "REPLACE";
}

/**
 * Copies an object inside S3, server-side (Airflow's `S3CopyObjectOperator`).
 *
 * @example
 * ```ts
 * new S3CopyObjectOperator({ taskId: "archive", sourceBucketKey: "s3://raw/sales/{{ ds }}.csv", destBucketKey: "s3://archive/sales/{{ ds }}.csv" });
 * ```
 */
export class S3CopyObjectOperator extends BaseOperator {
  readonly operatorName = "S3CopyObjectOperator";
  readonly templateFields = [
    "sourceBucketKey",
    "destBucketKey",
    "sourceBucketName",
    "destBucketName",
    "awsConnId",
  ] as const;
  constructor(options: S3CopyObjectOperatorOptions) {
    const names = [
      "awsConnId",
      "sourceBucketKey",
      "destBucketKey",
      "sourceBucketName",
      "destBucketName",
      "sourceVersionId",
      "aclPolicy",
      "metaDataDirective",
    ] as const;
    super(options, pick(options, names), names);
  }
  async execute(input: ExecuteInput): Promise<unknown> {
    const f = input.fields;
    const sourceBucket = opt(f.sourceBucketName);
    const destBucket = opt(f.destBucketName);
    const versionId = opt(f.sourceVersionId);
    const acl = opt(f.aclPolicy);
    const directive =
      f.metaDataDirective === "COPY" || f.metaDataDirective === "REPLACE" ? f.metaDataDirective : undefined;
    await withS3(input, f.awsConnId, (s3) =>
      s3.copyObject(text(f.sourceBucketKey), text(f.destBucketKey), {
        ...(sourceBucket === undefined ? {} : { sourceBucket }),
        ...(destBucket === undefined ? {} : { destBucket }),
        ...(versionId === undefined ? {} : { sourceVersionId: versionId }),
        ...(acl === undefined ? {} : { aclPolicy: acl }),
        ...(directive === undefined ? {} : { metadataDirective: directive }),
      }),
    );
    console.log(`Copied ${text(f.sourceBucketKey)} to ${text(f.destBucketKey)}`);
    return undefined;
  }
}

/** Options of {@link S3DeleteObjectsOperator}: `keys` or `prefix` (with optional time bounds), not both. */
export interface S3DeleteObjectsOperatorOptions extends S3Common {
  /** Templated. */
  bucket: string;
  /** One key or a list (templated). An empty list deletes nothing. */
  keys?: string | string[];
  /** Delete every key under this prefix (templated). */
  prefix?: string;
  /** With `prefix`: only objects modified at or after this time (ISO text or Date; templated). */
  fromDatetime?: string | Date;
  /** With `prefix`: only objects modified before this time (templated). */
  toDatetime?: string | Date;
}

function asDate(v: unknown, name: string, taskId: string): Date | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime()))
    throw new UpdraftError(
      "STORAGE_ARGUMENTS_INVALID",
      `Task "${taskId}": ${name} "${String(v)}" is not a date. Use ISO 8601 text.`,
    );
  return d;
}

/**
 * Deletes keys, or every key under a prefix (Airflow's `S3DeleteObjectsOperator`). Pushes the
 * deleted keys as XCom.
 *
 * @example
 * ```ts
 * new S3DeleteObjectsOperator({ taskId: "clean", bucket: "tmp", prefix: "staging/{{ ds }}/" });
 * ```
 */
export class S3DeleteObjectsOperator extends BaseOperator {
  readonly operatorName = "S3DeleteObjectsOperator";
  readonly templateFields = ["keys", "bucket", "prefix", "fromDatetime", "toDatetime", "awsConnId"] as const;
  constructor(options: S3DeleteObjectsOperatorOptions) {
    const names = ["awsConnId", "bucket", "keys", "prefix", "fromDatetime", "toDatetime"] as const;
    super(options, pick(options, names), names);
    const hasKeys = options.keys !== undefined;
    const hasPrefix = options.prefix !== undefined;
    if (hasKeys === hasPrefix)
      throw new UpdraftError(
        "STORAGE_ARGUMENTS_INVALID",
        `Task "${options.taskId}": give either keys or prefix to S3DeleteObjectsOperator (${hasKeys ? "not both" : "neither is given"}).`,
      );
    if (hasKeys && (options.fromDatetime !== undefined || options.toDatetime !== undefined))
      throw new UpdraftError(
        "STORAGE_ARGUMENTS_INVALID",
        `Task "${options.taskId}": fromDatetime and toDatetime go with prefix, not with keys.`,
      );
  }
  async execute(input: ExecuteInput): Promise<unknown> {
    const f = input.fields;
    const bucket = text(f.bucket);
    const from = asDate(f.fromDatetime, "fromDatetime", this.taskId);
    const to = asDate(f.toDatetime, "toDatetime", this.taskId);
    const deleted = await withS3(input, f.awsConnId, async (s3) => {
      const keys =
        f.keys !== undefined
          ? (Array.isArray(f.keys) ? f.keys : [f.keys]).map(text).filter((k) => k !== "")
          : await s3.listKeys(bucket, {
              prefix: text(f.prefix),
              ...(from === undefined ? {} : { fromDatetime: from }),
              ...(to === undefined ? {} : { toDatetime: to }),
            });
      await s3.deleteObjects(bucket, keys);
      return keys;
    });
    console.log(`Deleted ${deleted.length} key(s) from bucket ${bucket}`);
    return deleted;
  }
}

/** Options of {@link S3ListOperator}. */
export interface S3ListOperatorOptions extends S3Common {
  /** Templated. */
  bucket: string;
  /** Templated; with `applyWildcard`, an fnmatch pattern. */
  prefix?: string;
  /** Templated; e.g. `/` to list one "folder" level. */
  delimiter?: string;
  applyWildcard?: boolean;
}

/**
 * Lists the keys of a bucket under a prefix and pushes them as XCom (Airflow's `S3ListOperator`).
 *
 * @example
 * ```ts
 * new S3ListOperator({ taskId: "ls", bucket: "raw", prefix: "sales/{{ ds }}/", delimiter: "/" });
 * ```
 */
export class S3ListOperator extends BaseOperator {
  readonly operatorName = "S3ListOperator";
  readonly templateFields = ["bucket", "prefix", "delimiter", "awsConnId"] as const;
  constructor(options: S3ListOperatorOptions) {
    const names = ["awsConnId", "bucket", "prefix", "delimiter", "applyWildcard"] as const;
    super(options, pick(options, names), names);
  }
  async execute(input: ExecuteInput): Promise<unknown> {
    const f = input.fields;
    const bucket = text(f.bucket);
    console.log(
      `Getting the list of files from bucket: ${bucket} in prefix: ${text(f.prefix)} (Delimiter ${text(f.delimiter)})`,
    );
    const keys = await withS3(input, f.awsConnId, (s3) =>
      s3.listKeys(bucket, {
        prefix: text(f.prefix),
        delimiter: text(f.delimiter),
        applyWildcard: f.applyWildcard === true,
      }),
    );
    if (this.options.doXcomPush !== false)
      (await import("../../hooks/xcom-limit.js")).checkXcomSize(
        keys,
        `The ${keys.length} keys listed by S3ListOperator "${this.taskId}"`,
        'Narrow the prefix (or list one level with delimiter: "/"), or set doXcomPush: false.',
      );
    return keys;
  }
}
