// S3KeySensor's deferrable wait: the same check as its poke (hooks/s3-key-check.ts), polled in the
// triggerer's event loop. The AWS client loads with the first S3 key trigger, not with the triggerer.
import type { S3KeyCheckArgs } from "../../hooks/s3-key-check.js";
import { pollMs, sleep, type TriggerFn } from "../runtime.js";

export const s3KeyTrigger: TriggerFn = async (kwargs, ctx) => {
  const conn = await ctx.connection(String(kwargs["awsConnId"] ?? "aws_default"));
  const [{ openS3 }, { checkS3Keys }] = await Promise.all([
    import("../../hooks/s3.js"),
    import("../../hooks/s3-key-check.js"),
  ]);
  const hook = openS3(conn);
  const interval = pollMs(kwargs, 5);
  const args: S3KeyCheckArgs = {
    bucketKey: Array.isArray(kwargs["bucketKey"])
      ? kwargs["bucketKey"].map(String)
      : String(kwargs["bucketKey"]),
    ...(typeof kwargs["bucketName"] === "string" ? { bucketName: kwargs["bucketName"] } : {}),
    wildcardMatch: kwargs["wildcardMatch"] === true,
    useRegex: kwargs["useRegex"] === true,
  };
  try {
    for (;;) {
      const result = await checkS3Keys(hook, args);
      if (result.found) return { status: "success", files: result.files.flat().map((f) => f.key) };
      await sleep(interval, ctx.signal);
    }
  } finally {
    await hook.close();
  }
};
