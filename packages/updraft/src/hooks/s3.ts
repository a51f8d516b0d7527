// S3 hook on @aws-sdk/client-s3 (Airflow's S3Hook): credentials, region and endpoint from an
// `aws` connection; streamed uploads with @aws-sdk/lib-storage's multipart Upload.
import type { Readable } from "node:stream";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type BucketLocationConstraint,
  type ObjectCannedACL,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { UpdraftError } from "../common/errors.js";
import type { Connection } from "../sdk/context.js";
import type { S3HookImpl, S3ListOptions, S3ObjectInfo, S3UploadOptions } from "../sdk/storage-hooks.js";
import { expectConnType, nonEmptyString as str } from "./connection-type.js";
import { fnmatchToRegExp, literalPrefix } from "./fnmatch.js";
import { bucketAndKey } from "./s3-url.js";

/** A multipart part: S3's minimum. Memory of an upload is about QUEUE_SIZE parts. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
const DELETE_BATCH = 1000;

/** Airflow's `config_kwargs: { s3: { addressing_style } }`, or the flat `addressing_style` extra. */
function addressingStyle(extra: Record<string, unknown>): string | undefined {
  const kwargs = extra["config_kwargs"];
  const s3 =
    kwargs !== null && typeof kwargs === "object" ? (kwargs as Record<string, unknown>)["s3"] : undefined;
  const nested =
    s3 !== null && typeof s3 === "object" ? (s3 as Record<string, unknown>)["addressing_style"] : undefined;
  return str(nested) ?? str(extra["addressing_style"]);
}

/**
 * The client's configuration from an Airflow `aws` connection: login/password (or the extras
 * `aws_access_key_id`/`aws_secret_access_key`, `aws_session_token`) as the keys, else the SDK's
 * default chain (environment, profile, instance role); extras `region_name` and `endpoint_url`
 * (also the connection's host); path-style addressing when the extras ask for it, and by default
 * with a custom endpoint, where virtual-hosted names (`bucket.127.0.0.1`) rarely resolve.
 */
export function s3ClientConfig(conn: Connection): S3ClientConfig {
  expectConnType(conn, "S3 hook", ["aws", "s3"]);
  const e = conn.extra;
  const accessKeyId = str(conn.login) ?? str(e["aws_access_key_id"]);
  const secretAccessKey = str(conn.password) ?? str(e["aws_secret_access_key"]);
  const sessionToken = str(e["aws_session_token"]);
  const endpoint = str(e["endpoint_url"]) ?? str(e["host"]) ?? str(conn.host);
  const region = str(e["region_name"]) ?? (endpoint === undefined ? undefined : "us-east-1");
  const style = addressingStyle(e);
  const forcePathStyle = style === "path" || (style === undefined && endpoint !== undefined);
  return {
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
    forcePathStyle,
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken === undefined ? {} : { sessionToken }),
          },
        }
      : {}),
  };
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.$metadata.httpStatusCode === 404 || err.name === "NotFound" || err.name === "NoSuchKey";
}

/** Wraps an SDK error with the operation and the connection, keeping S3's own code and message. */
function failed(conn: Connection, what: string, err: unknown): UpdraftError {
  const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
  const name = err instanceof Error ? err.name : "Error";
  const message = err instanceof Error ? err.message : String(err);
  return new UpdraftError(
    "S3_REQUEST_FAILED",
    `S3 ${what} (connection "${conn.conn_id}") failed: ${name}${status === undefined ? "" : ` (HTTP ${status})`}: ${message}`,
    { cause: err, details: { conn_id: conn.conn_id, ...(status === undefined ? {} : { status }) } },
  );
}

function info(o: {
  Key?: string | undefined;
  Size?: number | undefined;
  LastModified?: Date | undefined;
  ETag?: string | undefined;
}): S3ObjectInfo {
  return {
    key: o.Key ?? "",
    size: o.Size ?? 0,
    lastModified: o.LastModified ?? null,
    etag: o.ETag ?? null,
  };
}

export function openS3(conn: Connection): S3HookImpl {
  // The SDK warns on Node 20 that its releases after January 2027 need Node 22: a notice for
  // whoever upgrades Updraft's dependencies, not for the author reading a task's log. Users who
  // want it back set the variable to "false".
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const client = new S3Client(s3ClientConfig(conn));

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UpdraftError) throw err;
      throw failed(conn, what, err);
    }
  }

  async function* pages(bucket: string, prefix: string, delimiter?: string, startAfter?: string) {
    let token: string | undefined;
    do {
      const page = await call(`list s3://${bucket}/${prefix}`, () =>
        client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ...(delimiter === undefined || delimiter === "" ? {} : { Delimiter: delimiter }),
            ...(startAfter === undefined ? {} : { StartAfter: startAfter }),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      yield page;
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async function listObjects(bucket: string, o: S3ListOptions): Promise<S3ObjectInfo[]> {
    const pattern = o.applyWildcard === true ? fnmatchToRegExp(o.prefix ?? "") : null;
    const prefix = pattern === null ? (o.prefix ?? "") : literalPrefix(o.prefix ?? "");
    const out: S3ObjectInfo[] = [];
    for await (const page of pages(bucket, prefix, o.delimiter, o.startAfterKey))
      for (const obj of page.Contents ?? []) {
        const i = info(obj);
        if (pattern !== null && !pattern.test(i.key)) continue;
        if (o.fromDatetime !== undefined && (i.lastModified === null || i.lastModified < o.fromDatetime))
          continue;
        if (o.toDatetime !== undefined && (i.lastModified === null || i.lastModified >= o.toDatetime))
          continue;
        out.push(i);
      }
    return out;
  }

  async function headObject(key: string, bucket?: string): Promise<S3ObjectInfo | null> {
    const l = bucketAndKey(key, bucket);
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: l.bucket, Key: l.key }));
      return info({
        Key: l.key,
        ...(h.ContentLength === undefined ? {} : { Size: h.ContentLength }),
        ...(h.LastModified === undefined ? {} : { LastModified: h.LastModified }),
        ...(h.ETag === undefined ? {} : { ETag: h.ETag }),
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw failed(conn, `HEAD s3://${l.bucket}/${l.key}`, err);
    }
  }

  async function refuseExisting(l: { bucket: string; key: string }, o: S3UploadOptions | undefined) {
    if (o?.replace === true) return;
    if ((await headObject(l.key, l.bucket)) !== null)
      throw new UpdraftError(
        "S3_KEY_EXISTS",
        `The key s3://${l.bucket}/${l.key} exists already. Set replace: true to overwrite it.`,
        { details: { bucket: l.bucket, key: l.key } },
      );
  }

  function putParams(l: { bucket: string; key: string }, o: S3UploadOptions | undefined) {
    return {
      Bucket: l.bucket,
      Key: l.key,
      ...(o?.encrypt === true ? { ServerSideEncryption: "AES256" as const } : {}),
      ...(o?.aclPolicy === undefined ? {} : { ACL: o.aclPolicy as ObjectCannedACL }),
      ...(o?.contentType === undefined ? {} : { ContentType: o.contentType }),
    };
  }

  return {
    async checkForBucket(bucket) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw failed(conn, `HEAD bucket ${bucket}`, err);
      }
    },
    async createBucket(bucket, region) {
      const r = region ?? (await client.config.region());
      await call(`create bucket ${bucket}`, () =>
        client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            // us-east-1 is the one region that must not be named (S3 refuses it as a constraint).
            ...(r === "us-east-1"
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: r as BucketLocationConstraint } }),
          }),
        ),
      );
    },
    async checkForKey(key, bucket) {
      return (await headObject(key, bucket)) !== null;
    },
    headObject,
    async listKeys(bucket, o = {}) {
      return (await listObjects(bucket, o)).map((i) => i.key);
    },
    async getFileMetadata(prefix, bucket) {
      return listObjects(bucket, { prefix });
    },
    async listPrefixes(bucket, prefix = "", delimiter = "/") {
      const out: string[] = [];
      for await (const page of pages(bucket, prefix, delimiter))
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) out.push(p.Prefix);
      return out;
    },
    async readKey(key, bucket) {
      const l = bucketAndKey(key, bucket);
      return call(`GET s3://${l.bucket}/${l.key}`, async () => {
        const res = await client.send(new GetObjectCommand({ Bucket: l.bucket, Key: l.key }));
        return (await res.Body?.transformToString("utf8")) ?? "";
      });
    },
    async getStream(key, bucket) {
      const l = bucketAndKey(key, bucket);
      return call(`GET s3://${l.bucket}/${l.key}`, async () => {
        const res = await client.send(new GetObjectCommand({ Bucket: l.bucket, Key: l.key }));
        // In Node the body is an http.IncomingMessage: a Readable that pulls from the socket.
        return res.Body as Readable;
      });
    },
    async loadString(data, key, bucket, o) {
      const l = bucketAndKey(key, bucket);
      await refuseExisting(l, o);
      await call(`PUT s3://${l.bucket}/${l.key}`, () =>
        client.send(new PutObjectCommand({ ...putParams(l, o), Body: data })),
      );
    },
    async loadStream(body, key, bucket, o) {
      const l = bucketAndKey(key, bucket);
      await refuseExisting(l, o);
      await call(`upload s3://${l.bucket}/${l.key}`, () =>
        new Upload({
          client,
          params: { ...putParams(l, o), Body: body },
          partSize: PART_SIZE,
          queueSize: QUEUE_SIZE,
        }).done(),
      );
    },
    async copyObject(sourceKey, destKey, o = {}) {
      const s = bucketAndKey(sourceKey, o.sourceBucket, "source key");
      const d = bucketAndKey(destKey, o.destBucket, "destination key");
      const source = `${s.bucket}/${encodeURIComponent(s.key).replace(/%2F/g, "/")}${
        o.sourceVersionId === undefined ? "" : `?versionId=${encodeURIComponent(o.sourceVersionId)}`
      }`;
      await call(`copy s3://${s.bucket}/${s.key} to s3://${d.bucket}/${d.key}`, () =>
        client.send(
          new CopyObjectCommand({
            Bucket: d.bucket,
            Key: d.key,
            CopySource: source,
            ...(o.aclPolicy === undefined ? {} : { ACL: o.aclPolicy as ObjectCannedACL }),
            ...(o.metadataDirective === undefined ? {} : { MetadataDirective: o.metadataDirective }),
          }),
        ),
      );
    },
    async deleteObjects(bucket, keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const res = await call(`delete ${batch.length} key(s) in ${bucket}`, () =>
          client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          ),
        );
        const errors = res.Errors ?? [];
        if (errors.length > 0)
          throw new UpdraftError(
            "S3_DELETE_FAILED",
            `S3 refused to delete ${errors.length} key(s) in bucket "${bucket}": ${errors
              .slice(0, 5)
              .map((e) => `${e.Key ?? "?"} (${e.Code ?? "?"}: ${e.Message ?? ""})`)
              .join("; ")}`,
            { details: { bucket, keys: errors.map((e) => e.Key ?? "") } },
          );
      }
    },
    async close() {
      client.destroy();
    },
  };
}
export { checkS3Keys } from "./s3-key-check.js";
export type { S3KeyCheckArgs, S3KeyCheckResult } from "./s3-key-check.js";
