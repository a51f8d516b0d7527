// Entry of the `updraft` binary (bin/updraft.js imports the built copy of this file).
import { reportCliError } from "./errors.js";
import { buildProgram } from "./program.js";

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  reportCliError(err);
}
