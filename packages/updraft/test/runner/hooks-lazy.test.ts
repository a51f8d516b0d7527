// Declaring SQL, HTTP and sensor operators (what the DAG processor does with every file) loads
// neither `pg` nor src/hooks/ (decision 0029), nor the AWS and Google storage clients (decision
// 0032); the hooks' modules do (the control shows that the recording works). Needs dist/.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempDirs, PACKAGE_ROOT } from "../helpers.js";
import { declareAndLoad, SDK } from "../lazy-imports.js";

const RUNTIME = join(PACKAGE_ROOT, "dist", "hooks", "index.js");
const S3_RUNTIME = join(PACKAGE_ROOT, "dist", "hooks", "s3.js");
const GCS_RUNTIME = join(PACKAGE_ROOT, "dist", "hooks", "gcs.js");
const WATCHED = [
  "/node_modules/pg/",
  "/dist/hooks/",
  "/node_modules/@aws-sdk/",
  "/node_modules/@google-cloud/",
];
const DECLARATIONS = `
  new sdk.SQLExecuteQueryOperator({ taskId: "q", connId: "w", sql: "select 1" });
  new sdk.SQLCheckOperator({ taskId: "c", connId: "w", sql: "select 1" });
  new sdk.HttpOperator({ taskId: "h", endpoint: "/x" });
  new sdk.HttpSensor({ taskId: "s", endpoint: "/x" });
  new sdk.SqlSensor({ taskId: "ss", sql: "select 1" });
  sdk.task("t", async (ctx) => ctx.hooks.postgres("w").query("select 1"))();
  new sdk.S3CreateObjectOperator({ taskId: "s3c", s3Bucket: "b", s3Key: "k", data: "x" });
  new sdk.S3CopyObjectOperator({ taskId: "s3cp", sourceBucketKey: "s3://b/a", destBucketKey: "s3://b/c" });
  new sdk.S3DeleteObjectsOperator({ taskId: "s3d", bucket: "b", keys: ["k"] });
  new sdk.S3ListOperator({ taskId: "s3l", bucket: "b" });
  new sdk.S3KeySensor({ taskId: "s3k", bucketKey: "s3://b/k" });
  new sdk.S3ToGCSOperator({ taskId: "s3g", bucket: "b", destGcs: "gs://g/p/" });
  sdk.task("st", async (ctx) => [await ctx.hooks.s3("a").listKeys("b"), await ctx.hooks.gcs("g").list("b")])();`;

afterAll(() => cleanupTempDirs());

describe("hooks load only when a task uses them", () => {
  it("declaring the operators loads neither pg nor src/hooks/; the hooks' module loads pg", () => {
    expect(existsSync(SDK), "run `npm run build -w updraft` first: this test imports dist/").toBe(true);
    const declared = declareAndLoad(DECLARATIONS, WATCHED);
    expect(declared.stdout).toContain("declared");
    expect(declared.stderr).not.toContain("LOADED");
    const executed = declareAndLoad(DECLARATIONS, WATCHED, RUNTIME);
    expect(executed.stderr).toContain("/dist/hooks/index.js");
    expect(executed.stderr).toContain("/node_modules/pg/");
  });

  it("declaring the S3 and GCS operators loads neither SDK; each storage hook's module loads its own only", () => {
    const s3 = declareAndLoad(DECLARATIONS, WATCHED, S3_RUNTIME);
    expect(s3.stderr).toContain("/node_modules/@aws-sdk/client-s3/");
    expect(s3.stderr).not.toContain("/node_modules/@google-cloud/");
    expect(s3.stderr).not.toContain("/node_modules/pg/");
    const gcs = declareAndLoad(DECLARATIONS, WATCHED, GCS_RUNTIME);
    expect(gcs.stderr).toContain("/node_modules/@google-cloud/storage/");
    expect(gcs.stderr).not.toContain("/node_modules/@aws-sdk/");
  });
});
