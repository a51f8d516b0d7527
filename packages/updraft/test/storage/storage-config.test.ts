// The rules that turn connections and arguments into S3/GCS client settings, checked without a
// network: Airflow's `aws` and `google_cloud_platform` extras, fnmatch wildcards, s3:// and gs://
// URLs, and the arguments refused when the DAG file is parsed.
import { describe, expect, it } from "vitest";
import { fnmatchToRegExp, literalPrefix } from "../../src/hooks/fnmatch.js";
import { gcsClientOptions } from "../../src/hooks/gcs.js";
import { s3ClientConfig } from "../../src/hooks/s3.js";
import { bucketAndKey } from "../../src/hooks/s3-url.js";
import type { Connection } from "../../src/sdk/context.js";
import { dag, S3DeleteObjectsOperator, S3ToGCSOperator } from "../../src/sdk/index.js";
import { parseDestGcs } from "../../src/sdk/operators/s3-to-gcs.js";

const conn = (c: Partial<Connection>): Connection => ({
  conn_id: "c",
  conn_type: "aws",
  host: null,
  schema: null,
  login: null,
  password: null,
  port: null,
  extra: {},
  getUri: () => "",
  ...c,
});

describe("S3 client settings from an aws connection", () => {
  it("takes login/password as keys, region and endpoint from the extras, path style with a custom endpoint", () => {
    const c = s3ClientConfig(
      conn({
        login: "AK",
        password: "SK",
        extra: { region_name: "eu-west-1", endpoint_url: "http://minio:9000" },
      }),
    );
    expect(c).toMatchObject({
      region: "eu-west-1",
      endpoint: "http://minio:9000",
      forcePathStyle: true,
      credentials: { accessKeyId: "AK", secretAccessKey: "SK" },
    });
  });

  it("follows Airflow's config_kwargs addressing_style, and leaves AWS itself virtual-hosted with the default credential chain", () => {
    const virtual = s3ClientConfig(
      conn({
        extra: { endpoint_url: "https://s3.example", config_kwargs: { s3: { addressing_style: "virtual" } } },
      }),
    );
    expect(virtual.forcePathStyle).toBe(false);
    const aws = s3ClientConfig(conn({ extra: { region_name: "us-east-2" } }));
    expect(aws).toEqual({ region: "us-east-2", forcePathStyle: false });
    const fromExtras = s3ClientConfig(
      conn({ extra: { aws_access_key_id: "A", aws_secret_access_key: "S", aws_session_token: "T" } }),
    );
    expect(fromExtras.credentials).toEqual({ accessKeyId: "A", secretAccessKey: "S", sessionToken: "T" });
  });

  it("refuses a connection of another type before building anything", () => {
    expect(() => s3ClientConfig(conn({ conn_type: "http" }))).toThrow(
      'Connection "c" has conn_type "http", but the S3 hook needs "aws"',
    );
  });
});

describe("GCS client settings from a google_cloud_platform connection", () => {
  const gcp = (extra: Record<string, unknown>) => conn({ conn_type: "google_cloud_platform", extra });

  it("sends no credentials to an emulator, and the key (parsed JSON) to a private endpoint", () => {
    expect(
      gcsClientOptions(gcp({ project: "p", api_endpoint: "http://127.0.0.1:4443/", anonymous: true })),
    ).toEqual({
      projectId: "p",
      apiEndpoint: "http://127.0.0.1:4443",
    });
    const key = { type: "service_account", client_email: "a@b", private_key: "k" };
    expect(
      gcsClientOptions(
        gcp({
          extra__google_cloud_platform__project: "p",
          keyfile_dict: JSON.stringify(key),
          api_endpoint: "https://gcs.internal",
        }),
      ),
    ).toEqual({
      projectId: "p",
      apiEndpoint: "https://gcs.internal",
      credentials: key,
      useAuthWithCustomEndpoint: true,
    });
  });

  it("says what is wrong with a key that is not JSON, or anonymous without an endpoint", () => {
    expect(() => gcsClientOptions(gcp({ keyfile_dict: "{not json" }))).toThrow(
      "the extra keyfile_dict is not JSON",
    );
    expect(() => gcsClientOptions(gcp({ anonymous: true }))).toThrow("anonymous: true needs api_endpoint");
  });
});

describe("wildcards and URLs", () => {
  it("matches as Python's fnmatch: * crosses /, ? is one character, [!x] negates", () => {
    expect(fnmatchToRegExp("sales/*.csv").test("sales/2026/01/a.csv")).toBe(true);
    expect(fnmatchToRegExp("sales/?.csv").test("sales/ab.csv")).toBe(false);
    expect(fnmatchToRegExp("a[!0-9].txt").test("ab.txt")).toBe(true);
    expect(fnmatchToRegExp("a[!0-9].txt").test("a1.txt")).toBe(false);
    expect(fnmatchToRegExp("a.b(c)").test("a.b(c)")).toBe(true);
    expect(literalPrefix("sales/2026-*/x?.csv")).toBe("sales/2026-");
  });

  it("takes the bucket from the argument or from an s3:// key, never both", () => {
    expect(bucketAndKey("s3://raw/a/b.csv", undefined)).toEqual({ bucket: "raw", key: "a/b.csv" });
    expect(bucketAndKey("a/b.csv", "raw")).toEqual({ bucket: "raw", key: "a/b.csv" });
    expect(() => bucketAndKey("a/b.csv", undefined)).toThrow(
      "Give the bucket name, or write the key as s3://bucket/key",
    );
    expect(() => bucketAndKey("s3://raw/a", "other")).toThrow("Give one or the other");
    expect(parseDestGcs("gs://lake/in/", "t")).toEqual({ bucket: "lake", prefix: "in/" });
    expect(parseDestGcs("gs://lake", "t")).toEqual({ bucket: "lake", prefix: "" });
    expect(() => parseDestGcs("gs://lake/in", "t")).toThrow('must end with a slash "/"');
  });

  it("refuses, when the DAG file is parsed, arguments that cannot work", () => {
    expect(() =>
      dag({ dagId: "bad_delete" }, () => {
        new S3DeleteObjectsOperator({ taskId: "d", bucket: "b", keys: ["k"], prefix: "p/" });
      }),
    ).toThrow("give either keys or prefix to S3DeleteObjectsOperator (not both)");
    expect(() =>
      dag({ dagId: "bad_dest" }, () => {
        new S3ToGCSOperator({ taskId: "g", bucket: "b", destGcs: "gs://lake/no-slash" });
      }),
    ).toThrow("must end with a slash");
  });
});
