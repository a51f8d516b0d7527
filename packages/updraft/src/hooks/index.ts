// Code that speaks to external systems for hooks and operators, loaded by the SDK with
// `await import()` only when a task uses it (see docs/decisions/0029-hooks-and-operators.md).
export { openPostgres, postgresClientConfig } from "./postgres.js";
export { openHttp, httpBaseUrl, connectionHeaders } from "./http.js";
export { expectConnType } from "./connection-type.js";
export { splitStatements } from "./split-statements.js";
export { checkXcomSize, xcomMaxSize } from "./xcom-limit.js";
export { sendEmail, smtpSettings } from "./email.js";
