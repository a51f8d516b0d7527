import { UpdraftError } from "../common/errors.js";

/** Splits `s3://bucket/key` (or `s3a://`, `s3n://`) into its bucket and key. */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3[an]?:\/\/([^/]+)\/?(.*)$/s.exec(url);
  if (m === null)
    throw new UpdraftError(
      "S3_BUCKET_MISSING",
      `"${url}" is not an s3:// URL. Give the bucket (bucketName, sourceBucketName, …) or write the key as s3://bucket/key.`,
    );
  return { bucket: m[1] ?? "", key: m[2] ?? "" };
}

/**
 * The bucket and key of an operator's or hook's arguments, as Airflow's `@unify_bucket_name_and_key`:
 * the bucket given, or else the key must be a full `s3://` URL. A full URL with a bucket given too
 * is refused — one of them would be ignored.
 */
export function bucketAndKey(
  key: string,
  bucket: string | undefined,
  what = "key",
): { bucket: string; key: string } {
  const isUrl = /^s3[an]?:\/\//.test(key);
  if (bucket === undefined || bucket === "") {
    if (!isUrl)
      throw new UpdraftError(
        "S3_BUCKET_MISSING",
        `No bucket for ${what} "${key}". Give the bucket name, or write the ${what} as s3://bucket/key.`,
      );
    return parseS3Url(key);
  }
  if (isUrl)
    throw new UpdraftError(
      "S3_BUCKET_MISSING",
      `The ${what} "${key}" is a full s3:// URL and a bucket ("${bucket}") is given too. Give one or the other.`,
    );
  return { bucket, key };
}
