export { createApiServer } from "./server.js";
export type { ApiServer, ApiServerOptions } from "./server.js";
export { toProblem, statusFor } from "./problem.js";
export type { Problem } from "./problem.js";
