// Google Cloud Storage hook on @google-cloud/storage (Airflow's GCSHook): project and credentials
// from a `google_cloud_platform` connection, a custom API endpoint for emulators, streamed
// resumable uploads.
import { pipeline } from "node:stream/promises";
import { Storage, type StorageOptions } from "@google-cloud/storage";
import { UpdraftError } from "../common/errors.js";
import type { Connection } from "../sdk/context.js";
import type { GcsHookImpl } from "../sdk/storage-hooks.js";
import { expectConnType, nonEmptyString as str } from "./connection-type.js";

/** An extra by its name or by Airflow's older prefixed name (`extra__google_cloud_platform__project`). */
function extra(conn: Connection, name: string): unknown {
  return conn.extra[name] ?? conn.extra[`extra__google_cloud_platform__${name}`];
}

function truthy(v: unknown): boolean {
  return v === true || v === "true" || v === "True" || v === 1 || v === "1";
}

/**
 * The client's options from an Airflow `google_cloud_platform` connection: extras `project`,
 * `keyfile_dict` (the service account key as JSON text or object) or `key_path` (a file), and
 * Updraft's `api_endpoint` (an emulator's or a private endpoint's URL) with `anonymous: true` to
 * send no credentials. Without a key the Google default credentials are used (environment,
 * workload identity), as Airflow does.
 */
export function gcsClientOptions(conn: Connection): StorageOptions {
  expectConnType(conn, "GCS hook", ["google_cloud_platform", "gcp", "gcs"]);
  const projectId = str(extra(conn, "project")) ?? str(extra(conn, "project_id"));
  const apiEndpoint = str(extra(conn, "api_endpoint"));
  const anonymous = truthy(extra(conn, "anonymous"));
  const keyPath = str(extra(conn, "key_path"));
  const keyfile = extra(conn, "keyfile_dict");
  let credentials: StorageOptions["credentials"];
  if (keyfile !== undefined && keyfile !== null && keyfile !== "") {
    try {
      credentials = (
        typeof keyfile === "string" ? JSON.parse(keyfile) : keyfile
      ) as StorageOptions["credentials"];
    } catch (err) {
      throw new UpdraftError(
        "GCS_CONNECTION_INVALID",
        `Connection "${conn.conn_id}": the extra keyfile_dict is not JSON. Paste the service account key file's content as it is.`,
        { cause: err },
      );
    }
  }
  if (anonymous && apiEndpoint === undefined)
    throw new UpdraftError(
      "GCS_CONNECTION_INVALID",
      `Connection "${conn.conn_id}": anonymous: true needs api_endpoint (an emulator's URL); Google Cloud Storage itself needs credentials.`,
    );
  const withKey = credentials !== undefined || keyPath !== undefined;
  return {
    ...(projectId === undefined ? {} : { projectId }),
    ...(apiEndpoint === undefined ? {} : { apiEndpoint: apiEndpoint.replace(/\/+$/, "") }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(keyPath === undefined ? {} : { keyFilename: keyPath }),
    // With a custom endpoint the client sends no credentials unless told to: an emulator wants
    // none, a private endpoint in front of the real service wants the key.
    ...(apiEndpoint !== undefined && withKey && !anonymous ? { useAuthWithCustomEndpoint: true } : {}),
  };
}

function failed(conn: Connection, what: string, err: unknown): UpdraftError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return new UpdraftError(
    "GCS_REQUEST_FAILED",
    `GCS ${what} (connection "${conn.conn_id}") failed${typeof code === "number" ? ` (HTTP ${code})` : ""}: ${message}`,
    { cause: err, details: { conn_id: conn.conn_id, ...(typeof code === "number" ? { status: code } : {}) } },
  );
}

export function openGcs(conn: Connection): GcsHookImpl {
  const storage = new Storage(gcsClientOptions(conn));
  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UpdraftError) throw err;
      throw failed(conn, what, err);
    }
  }
  const file = (bucket: string, name: string) => storage.bucket(bucket).file(name);
  return {
    exists: (bucket, name) =>
      call(`exists gs://${bucket}/${name}`, async () => (await file(bucket, name).exists())[0]),
    list: (bucket, o = {}) =>
      call(`list gs://${bucket}/${o.prefix ?? ""}`, async () => {
        const [files] = await storage.bucket(bucket).getFiles({
          autoPaginate: true,
          ...(o.prefix === undefined || o.prefix === "" ? {} : { prefix: o.prefix }),
          ...(o.delimiter === undefined || o.delimiter === "" ? {} : { delimiter: o.delimiter }),
          ...(o.matchGlob === undefined ? {} : { matchGlob: o.matchGlob }),
        });
        return files.map((f) => f.name);
      }),
    upload: (bucket, name, data, o = {}) =>
      call(`upload gs://${bucket}/${name}`, () =>
        file(bucket, name).save(Buffer.from(data), {
          resumable: false,
          ...(o.contentType === undefined ? {} : { contentType: o.contentType }),
          ...(o.gzip === true ? { gzip: true } : {}),
        }),
      ),
    uploadStream: (bucket, name, body, o = {}) =>
      call(`upload gs://${bucket}/${name}`, () =>
        // A resumable upload sends the stream as it comes, with backpressure: memory stays at the
        // stream's buffers whatever the object's size.
        pipeline(
          body,
          file(bucket, name).createWriteStream({
            resumable: true,
            ...(o.contentType === undefined ? {} : { contentType: o.contentType }),
            ...(o.gzip === true ? { gzip: true } : {}),
          }),
        ),
      ),
    download: (bucket, name) =>
      call(`download gs://${bucket}/${name}`, async () => (await file(bucket, name).download())[0]),
    getStream: async (bucket, name) => file(bucket, name).createReadStream(),
    delete: (bucket, name) =>
      call(`delete gs://${bucket}/${name}`, async () => {
        await file(bucket, name).delete();
      }),
    createBucket: (bucket) =>
      call(`create bucket ${bucket}`, async () => {
        await storage.createBucket(bucket);
      }),
    // The client keeps no connection of its own beyond the shared HTTP agent's idle sockets.
    close: async () => undefined,
  };
}
