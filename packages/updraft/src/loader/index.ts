export { Transpiler } from "./transpile.js";
export type { TranspileResult, TranspileStats } from "./transpile.js";
export {
  updraftHome,
  defaultCacheDir,
  UPDRAFT_ENTRY,
  UPDRAFT_VERSION,
  EVALUATE_CHILD_SCRIPT,
} from "./paths.js";
