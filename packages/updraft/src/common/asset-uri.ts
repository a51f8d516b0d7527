// Asset URIs (decision 0031): checks and normalisation shared by the SDK's asset(), the DAG
// processor and the REST API, and the JSON shapes of assets and conditions.
import { UpdraftError } from "./errors.js";

/** An asset as stored: its normalised URI, its name and group, and free-form extra. */
export interface AssetRef {
  uri: string;
  name: string;
  group: string;
  extra: Record<string, unknown>;
}

/** A DAG's asset condition: one asset, all of several (`and`), or any of several (`or`). */
export type AssetConditionJson =
  | { type: "asset"; uri: string }
  | { type: "all"; objects: AssetConditionJson[] }
  | { type: "any"; objects: AssetConditionJson[] };

/** Airflow's limit on an asset URI (the `asset.uri` column is a 1500-character string there). */
export const MAX_ASSET_URI_LENGTH = 1500;
const RESERVED_SCHEMES = new Set(["airflow", "updraft"]);

function invalidUri(uri: unknown, reason: string): UpdraftError {
  return new UpdraftError(
    "ASSET_URI_INVALID",
    `Asset URI ${JSON.stringify(uri)} is not valid: ${reason}. Write a URI with a scheme, e.g. asset("s3://bucket/orders.parquet") or asset("file:///data/orders.csv").`,
    { details: { uri } },
  );
}

/**
 * Checks an asset URI and returns it normalised as Airflow does: the scheme and the host are
 * lowercased, an empty query or fragment marker is dropped. Refuses a URI without a scheme, with
 * whitespace or non-ASCII characters, with a user or password, or with a reserved scheme.
 */
export function normalizeAssetUri(uri: unknown): string {
  if (typeof uri !== "string") throw invalidUri(uri, "it is not a string");
  if (uri === "") throw invalidUri(uri, "it is empty");
  if (uri.length > MAX_ASSET_URI_LENGTH)
    throw invalidUri(uri, `it is longer than ${MAX_ASSET_URI_LENGTH} characters`);
  if (/\s/.test(uri)) throw invalidUri(uri, "it contains whitespace (percent-encode it as %20)");
  // eslint-disable-next-line no-control-regex -- the point is to refuse anything but ASCII
  if (!/^[\x00-\x7f]*$/.test(uri))
    throw invalidUri(uri, "it contains non-ASCII characters (percent-encode them)");
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(uri);
  if (m === null) throw invalidUri(uri, 'it has no scheme (such as "s3://" or "file://")');
  const scheme = (m[1] ?? "").toLowerCase();
  if (RESERVED_SCHEMES.has(scheme))
    throw invalidUri(uri, `the scheme "${scheme}" is reserved for Updraft's own use`);
  let rest = m[2] ?? "";
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? "" : rest.slice(authorityEnd);
  if (authority.includes("@"))
    throw invalidUri(uri, "it contains a user or password; keep credentials in a connection");
  rest = authority.toLowerCase() + tail.replace(/#$/, "").replace(/\?$/, "");
  if (rest === "") throw invalidUri(uri, "it has nothing after the scheme");
  return `${scheme}://${rest}`;
}
