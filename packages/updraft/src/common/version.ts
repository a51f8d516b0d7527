import { readFileSync } from "node:fs";

/** This package's version (package.json), from src/ and from dist/ alike: both sit two levels down. */
export const UPDRAFT_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
