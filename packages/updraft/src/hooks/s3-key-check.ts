// "Do these S3 keys exist?" — the check of S3KeySensor's poke, kept a plain function of a hook and
// plain arguments so that a deferrable S3 key trigger can call it from the triggerer's event loop.
import type { S3Hook, S3ObjectInfo } from "../sdk/storage-hooks.js";
import { fnmatchToRegExp, literalPrefix } from "./fnmatch.js";
import { bucketAndKey } from "./s3-url.js";

/** Arguments of {@link checkS3Keys}: S3KeySensor's, JSON-serializable for a trigger's kwargs. */
export interface S3KeyCheckArgs {
  /** One key or several; each may be a full `s3://bucket/key` URL when `bucketName` is not given. */
  bucketKey: string | readonly string[];
  bucketName?: string;
  /** Keys are fnmatch patterns (`*` also matches `/`). */
  wildcardMatch?: boolean;
  /** Keys are regular expressions matched from the start of the key (Airflow `use_regex`). */
  useRegex?: boolean;
}

/** What the check found: for each key (in order), the objects that matched it. */
export interface S3KeyCheckResult {
  /** Every key matched at least one object. */
  found: boolean;
  files: S3ObjectInfo[][];
}

/** Checks every key of `args` with `hook`; stops at the first key that has no match. */
export async function checkS3Keys(
  hook: Pick<S3Hook, "headObject" | "getFileMetadata">,
  args: S3KeyCheckArgs,
): Promise<S3KeyCheckResult> {
  const keys = typeof args.bucketKey === "string" ? [args.bucketKey] : [...args.bucketKey];
  const files: S3ObjectInfo[][] = [];
  for (const raw of keys) {
    const { bucket, key } = bucketAndKey(raw, args.bucketName, "bucketKey");
    let matches: S3ObjectInfo[];
    if (args.wildcardMatch === true || args.useRegex === true) {
      const re = args.useRegex === true ? new RegExp(`^(?:${key})`) : fnmatchToRegExp(key);
      const prefix = args.useRegex === true ? "" : literalPrefix(key);
      matches = (await hook.getFileMetadata(prefix, bucket)).filter((o) => re.test(o.key));
    } else {
      const head = await hook.headObject(key, bucket);
      matches = head === null ? [] : [head];
    }
    if (matches.length === 0) return { found: false, files };
    files.push(matches);
  }
  return { found: true, files };
}
