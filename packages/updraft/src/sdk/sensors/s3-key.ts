import type { ExecuteInput } from "../base-operator.js";
import type { TaskContext } from "../context.js";
import { withS3 } from "../operators/s3.js";
import { pick } from "../operators/sql.js";
import { loadS3Hooks, type S3ObjectInfo } from "../storage-hooks.js";
import { BaseSensorOperator, type BaseSensorOptions } from "./base-sensor.js";
import { triggers, type TriggerSpec } from "../triggers.js";

/** Options of {@link S3KeySensor}. */
export interface S3KeySensorOptions extends BaseSensorOptions {
  /** One key or several (templated); each a key in `bucketName` or a full `s3://bucket/key` URL. */
  bucketKey: string | string[];
  /** Templated. */
  bucketName?: string;
  /** Keys are fnmatch patterns: `*` matches any run of characters, `/` included. */
  wildcardMatch?: boolean;
  /** Keys are regular expressions matched from the start of the key. */
  useRegex?: boolean;
  /**
   * Decides on what was found: called with the matching objects (all keys' matches flattened,
   * as Airflow's `check_fn` gets them); done when it returns true.
   */
  checkFn?: (files: S3ObjectInfo[], ctx: TaskContext) => boolean | Promise<boolean>;
  /** Default `aws_default`; templated. */
  awsConnId?: string;
}

const FIELDS = ["bucketKey", "bucketName", "wildcardMatch", "useRegex", "awsConnId"] as const;

/**
 * Waits for one or several S3 keys to exist (Airflow's `S3KeySensor`). The check itself is
 * `checkS3Keys` in src/hooks/s3-key-check.ts, which a deferrable trigger can call too.
 *
 * @example
 * ```ts
 * new S3KeySensor({ taskId: "wait_drop", awsConnId: "lake", bucketName: "raw", bucketKey: "sales/{{ ds }}/*.csv", wildcardMatch: true, pokeInterval: "1m" });
 * ```
 */
export class S3KeySensor extends BaseSensorOperator {
  readonly operatorName = "S3KeySensor";
  readonly templateFields = ["bucketKey", "bucketName", "awsConnId"] as const;
  private readonly checkFn: S3KeySensorOptions["checkFn"];

  constructor(options: S3KeySensorOptions) {
    super(options, pick(options, FIELDS), [...FIELDS, "checkFn"]);
    this.checkFn = options.checkFn;
  }

  protected override deferralRefusal(options: BaseSensorOptions): string | null {
    return (options as S3KeySensorOptions).checkFn === undefined
      ? null
      : "checkFn is a function of the DAG file, which the triggerer does not run.";
  }

  protected override trigger(input: ExecuteInput): TriggerSpec {
    const f = input.fields;
    return triggers.s3Key({
      awsConnId: typeof f.awsConnId === "string" ? f.awsConnId : "aws_default",
      bucketKey: (Array.isArray(f.bucketKey) ? f.bucketKey : [f.bucketKey]).map(String),
      ...(typeof f.bucketName === "string" && f.bucketName !== "" ? { bucketName: f.bucketName } : {}),
      wildcardMatch: f.wildcardMatch === true,
      useRegex: f.useRegex === true,
      pokeIntervalS: this.pokeIntervalMs / 1000,
    });
  }

  async poke(input: ExecuteInput): Promise<boolean> {
    const f = input.fields;
    const keys = (Array.isArray(f.bucketKey) ? f.bucketKey : [f.bucketKey]).map(String);
    const bucket = typeof f.bucketName === "string" && f.bucketName !== "" ? f.bucketName : undefined;
    console.log(
      `Poking for key${keys.length > 1 ? "s" : ""}: ${keys.map((k) => (bucket === undefined ? k : `s3://${bucket}/${k}`)).join(", ")}`,
    );
    const result = await withS3(input, f.awsConnId, async (s3) => {
      const { checkS3Keys } = await loadS3Hooks();
      return checkS3Keys(s3, {
        bucketKey: keys,
        ...(bucket === undefined ? {} : { bucketName: bucket }),
        wildcardMatch: f.wildcardMatch === true,
        useRegex: f.useRegex === true,
      });
    });
    if (!result.found) return false;
    if (this.checkFn === undefined) return true;
    return this.checkFn(result.files.flat(), input.ctx);
  }
}
