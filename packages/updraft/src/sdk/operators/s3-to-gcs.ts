// The tutorial's transfer: S3 objects under a prefix copied to Google Cloud Storage, each streamed
// from S3's GET body into a GCS resumable upload, so that the runner never holds an object whole.
import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { loadGcsHooks } from "../storage-hooks.js";
import { withS3 } from "./s3.js";
import { pick } from "./sql.js";

/** Options of {@link S3ToGCSOperator}: Airflow's arguments in camelCase. */
export interface S3ToGCSOperatorOptions extends TaskOptions {
  taskId: string;
  /** The S3 bucket (templated). */
  bucket: string;
  /** Copy the keys under this prefix (templated). Default: the whole bucket. */
  prefix?: string;
  /** Templated; `/` copies one "folder" level only. */
  delimiter?: string;
  /** conn_type `aws`. Default `aws_default`. */
  awsConnId?: string;
  /** conn_type `google_cloud_platform`. Default `google_cloud_default`. */
  gcpConnId?: string;
  /** `gs://bucket/prefix/` (templated): the prefix must end with `/`, or be empty. */
  destGcs: string;
  /** Copy keys that exist in GCS already. Default false: those are skipped. */
  replace?: boolean;
  /** Compress with gzip on upload. */
  gzip?: boolean;
  /**
   * The S3 prefix is replaced by the GCS prefix (`raw/a.csv` with prefix `raw/` and destGcs
   * `gs://b/in/` → `in/a.csv`). Default false: the GCS prefix is put before the whole key
   * (`in/raw/a.csv`), as Airflow.
   */
  applyGcsPrefix?: boolean;
}

const FIELDS = [
  "bucket",
  "prefix",
  "delimiter",
  "awsConnId",
  "gcpConnId",
  "destGcs",
  "replace",
  "gzip",
  "applyGcsPrefix",
] as const;

/** `gs://bucket/prefix/` as bucket and prefix; the prefix must name a "folder". */
export function parseDestGcs(url: string, taskId: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/s.exec(url);
  if (m === null)
    throw new UpdraftError(
      "STORAGE_ARGUMENTS_INVALID",
      `Task "${taskId}": destGcs "${url}" is not a gs:// URL. Write it as gs://bucket/prefix/.`,
    );
  const prefix = m[2] ?? "";
  if (prefix !== "" && !prefix.endsWith("/"))
    throw new UpdraftError(
      "STORAGE_ARGUMENTS_INVALID",
      `Task "${taskId}": the destination Google Cloud Storage path must end with a slash "/" or be empty (destGcs "${url}").`,
    );
  return { bucket: m[1] ?? "", prefix };
}

/**
 * Copies the objects of an S3 bucket (under a prefix) to Google Cloud Storage (Airflow's
 * `S3ToGCSOperator`), streaming each object; pushes the list of copied S3 keys as XCom.
 *
 * @example
 * ```ts
 * new S3ToGCSOperator({ taskId: "to_gcs", bucket: "raw", prefix: "sales/{{ ds }}/", destGcs: "gs://lake/landing/", awsConnId: "lake_s3", gcpConnId: "lake_gcs" });
 * ```
 */
export class S3ToGCSOperator extends BaseOperator {
  readonly operatorName = "S3ToGCSOperator";
  readonly templateFields = ["bucket", "prefix", "delimiter", "destGcs", "awsConnId", "gcpConnId"] as const;

  constructor(options: S3ToGCSOperatorOptions) {
    super(options, pick(options, FIELDS), FIELDS);
    // Checked at parse time when the value holds no template, at run time otherwise.
    if (!options.destGcs.includes("{{")) parseDestGcs(options.destGcs, options.taskId);
  }

  async execute(input: ExecuteInput): Promise<unknown> {
    const f = input.fields;
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    const bucket = str(f.bucket);
    const prefix = str(f.prefix);
    const dest = parseDestGcs(str(f.destGcs), this.taskId);
    const gcpConnId = str(f.gcpConnId) === "" ? "google_cloud_default" : str(f.gcpConnId);
    const toGcs = (key: string) =>
      dest.prefix + (f.applyGcsPrefix === true && key.startsWith(prefix) ? key.slice(prefix.length) : key);

    const [gcsConn, gcsImpl] = await Promise.all([input.ctx.conn.get(gcpConnId), loadGcsHooks()]);
    const gcs = gcsImpl.openGcs(gcsConn);
    try {
      return await withS3(input, f.awsConnId, async (s3) => {
        const keys = (await s3.listKeys(bucket, { prefix, delimiter: str(f.delimiter) })).filter(
          // "Folder" markers (keys ending in /) carry no data and have no place in GCS's flat names.
          (k) => !k.endsWith("/"),
        );
        console.log(`Found ${keys.length} key(s) under s3://${bucket}/${prefix}`);
        let todo = keys;
        if (f.replace !== true) {
          const existing = new Set(await gcs.list(dest.bucket, { prefix: dest.prefix }));
          todo = keys.filter((k) => !existing.has(toGcs(k)));
          if (todo.length < keys.length)
            console.log(
              `Skipping ${keys.length - todo.length} key(s) that exist in gs://${dest.bucket}/${dest.prefix} already (replace: false)`,
            );
        }
        const copied: string[] = [];
        for (const key of todo) {
          input.signal.throwIfAborted();
          const target = toGcs(key);
          const body = await s3.getStream(key, bucket);
          // A stopped try ends the copy in flight: the S3 body fails the GCS upload's pipeline.
          const stop = () => body.destroy(new Error("The try was stopped during the copy."));
          input.signal.addEventListener("abort", stop, { once: true });
          try {
            await gcs.uploadStream(dest.bucket, target, body, {
              ...(f.gzip === true ? { gzip: true } : {}),
            });
          } finally {
            input.signal.removeEventListener("abort", stop);
          }
          console.log(`Copied s3://${bucket}/${key} to gs://${dest.bucket}/${target}`);
          copied.push(key);
        }
        console.log(`All done, copied ${copied.length} file(s) to Google Cloud Storage`);
        if (this.options.doXcomPush !== false)
          (await import("../../hooks/xcom-limit.js")).checkXcomSize(
            copied,
            `The ${copied.length} keys copied by S3ToGCSOperator "${this.taskId}"`,
            "Copy fewer keys per task (a narrower prefix, or mapped tasks per prefix), or set doXcomPush: false.",
          );
        return copied;
      });
    } finally {
      await gcs.close();
    }
  }
}
