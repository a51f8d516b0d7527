// Entry of the `updraft` binary (bin/updraft.js imports the built copy of this file).
import { reportCliError } from "./errors.js";
import { buildFullProgram } from "./full-program.js";

try {
  await buildFullProgram().parseAsync(process.argv);
} catch (err) {
  reportCliError(err);
}
