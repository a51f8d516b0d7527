// Airflow's `file_token`: a signed, url-safe name for a DAG file that the API hands out in DAG
// replies and takes back in GET /dagSources/{file_token}. It carries the fileloc (no secret: the
// DAG reply shows the fileloc anyway); the signature only proves the server issued it, so that a
// client cannot name files. The key is derived from the server's secret for this use alone, so a
// file token is never a valid task token and the reverse.
import { createHmac } from "node:crypto";
import { signToken, verifyToken } from "../common/signed-token.js";

export interface FileTokens {
  /** The token of a fileloc. */
  sign(fileloc: string): string;
  /** The fileloc a token names, or undefined when it is malformed, forged or tampered with. */
  verify(token: string): string | undefined;
}

export function fileTokens(secretKey: string): FileTokens {
  const key = createHmac("sha256", secretKey).update("updraft file_token v1").digest("base64url");
  return {
    sign: (fileloc) => signToken({ fileloc }, key),
    verify(token) {
      try {
        const claims = verifyToken(token, key);
        return typeof claims["fileloc"] === "string" ? claims["fileloc"] : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
